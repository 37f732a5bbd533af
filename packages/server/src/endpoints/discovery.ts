import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../context.js'
import { GRANTS } from '../grants/index.js'

/** The RFC 8414 metadata document of this server. */
export function metadata(ctx: ServerContext, scopes: string[]): Record<string, unknown> {
  const { issuer } = ctx.config
  const clientAuth = ['client_secret_basic', 'client_secret_post']
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    grant_types_supported: [...GRANTS.keys()],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: [...clientAuth, 'none'],
    revocation_endpoint_auth_methods_supported: [...clientAuth, 'none'],
    introspection_endpoint_auth_methods_supported: clientAuth,
    scopes_supported: scopes,
    access_token_signing_alg_values_supported: [ctx.config.signingAlg],
    service_documentation: `${issuer}/docs`,
  }
}

/** GET /.well-known/oauth-authorization-server (RFC 8414). */
export function discoveryEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/.well-known/oauth-authorization-server',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Authorization server metadata (RFC 8414)',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return metadata(ctx, await ctx.store.listClientScopes())
    },
  )
}
