import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  keepRefreshTokenInCookie,
  refreshTokenFromCookie,
  wantsCookieMode,
} from '../browser/refresh-cookie.js'
import type { ServerContext } from '../context.js'
import { UnauthorizedClient, UnsupportedGrantType } from '../errors.js'
import type { Grant } from '../grants/grant.js'
import { GRANTS } from '../grants/index.js'
import { authenticateClient } from '../http/client-auth.js'
import { type FormParams, requiredParam, requireFormBody } from '../http/form-body.js'
import { errorResponses, formBody, tokenResponse } from './schemas.js'

function findGrant(grantType: string): Grant {
  const grant = GRANTS.get(grantType)
  if (!grant) throw new UnsupportedGrantType(`the grant type "${grantType.slice(0, 64)}" is not supported`)
  return grant
}

function checkGrantAllowed(grant: Grant, clientGrants: readonly string[]): void {
  if (!clientGrants.includes(grant.grantType)) {
    throw new UnauthorizedClient(`this client is not allowed to use the ${grant.grantType} grant`)
  }
}

const str = (maxLength: number, description?: string) => ({
  type: 'string' as const,
  maxLength,
  ...(description ? { description } : {}),
})

/** POST /oauth/token (RFC 6749 §3.2): a pipeline of named steps, then the grant's handler. */
export function tokenEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/oauth/token',
    {
      preValidation: requireFormBody,
      schema: {
        tags: ['oauth'],
        summary: 'Token endpoint: password, client_credentials and refresh_token grants',
        consumes: ['application/x-www-form-urlencoded'],
        body: formBody(
          {
            grant_type: str(64, [...GRANTS.keys()].join(' | ')),
            username: str(255),
            password: str(1024),
            refresh_token: str(512),
            scope: str(2048),
            client_id: str(255),
            client_secret: str(512),
          },
          ['grant_type'],
        ),
        response: { 200: tokenResponse, ...errorResponses(400, 401, 413, 429, 503) },
      },
    },
    async (request: FastifyRequest<{ Body: FormParams }>, reply) => {
      const params = request.body
      const grantType = requiredParam(params, 'grant_type', 64)
      const client = await authenticateClient(ctx, request, params)
      const grant = findGrant(grantType)
      checkGrantAllowed(grant, client.grantTypes)
      const cookieMode = client.isPublic && wantsCookieMode(request)
      if (cookieMode && grantType === 'refresh_token' && params.refresh_token === undefined) {
        const fromCookie = refreshTokenFromCookie(ctx, request, client)
        if (fromCookie !== undefined) params.refresh_token = fromCookie
      }
      const response = await grant.handler({
        ctx,
        client,
        params,
        ip: request.ip,
        userAgent: request.headers['user-agent'],
      })
      // RFC 6749 §5.1: token responses must never be cached.
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      if (cookieMode && response.refresh_token !== undefined) {
        keepRefreshTokenInCookie(ctx, reply, response.refresh_token)
        delete response.refresh_token
      }
      return response
    },
  )
}
