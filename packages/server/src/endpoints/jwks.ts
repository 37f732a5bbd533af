import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../context.js'

/** GET /.well-known/jwks.json (RFC 7517): the public signing keys, current and retiring. */
export function jwksEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Public keys that verify access tokens (RFC 7517)',
        response: {
          200: {
            type: 'object',
            properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } },
          },
        },
      },
    },
    async (_request, reply) => {
      // Short: guards refetch on an unknown kid anyway, and a rotated key should spread fast.
      reply.header('cache-control', 'public, max-age=60').type('application/json')
      return ctx.keys.jwksJson
    },
  )
}
