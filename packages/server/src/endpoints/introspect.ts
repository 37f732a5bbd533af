import type { FastifyInstance, FastifyRequest } from 'fastify'
import { API_KEY_PREFIX } from '../api-keys.js'
import type { ServerContext } from '../context.js'
import { InvalidClient, InvalidToken } from '../errors.js'
import { authenticateClient } from '../http/client-auth.js'
import { type FormParams, requiredParam, requireFormBody } from '../http/form-body.js'
import { REFRESH_TOKEN_PREFIX } from '../tokens/refresh-token.js'
import { errorResponses, formBody } from './schemas.js'

type Introspection = { active: false } | ({ active: true } & Record<string, unknown>)

const INACTIVE: Introspection = { active: false }

async function introspectRefreshToken(ctx: ServerContext, token: string): Promise<Introspection> {
  const claims = ctx.refreshTokens.decode(token)
  if (!claims) return INACTIVE
  const session = await ctx.store.findSession(claims.sessionId)
  const now = ctx.now()
  if (
    !session ||
    session.generation !== claims.generation ||
    session.revokedAt !== null ||
    session.idleExpiresAt <= now ||
    session.absoluteExpiresAt <= now
  ) {
    return INACTIVE
  }
  return {
    active: true,
    token_type: 'refresh_token',
    client_id: session.clientId,
    sub: session.userId ?? session.clientId,
    scope: session.scope,
    sid: session.id,
    iat: Math.floor((session.rotatedAt ?? session.createdAt) / 1000),
    exp: Math.floor(Math.min(session.idleExpiresAt, session.absoluteExpiresAt) / 1000),
    iss: ctx.config.issuer,
  }
}

async function introspectApiKey(ctx: ServerContext, token: string): Promise<Introspection> {
  const key = await ctx.store.findApiKeyByHash(ctx.apiKeys.digest(token))
  const now = ctx.now()
  if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) return INACTIVE
  // last-used time is kept to the minute: one write per key per minute, not per check.
  if (key.lastUsedAt === null || now - key.lastUsedAt > 60_000) await ctx.store.touchApiKey(key.id, now)
  return {
    active: true,
    token_type: 'api_key',
    sub: `api-key:${key.id}`,
    name: key.name,
    scope: key.scopes.join(' '),
    iat: Math.floor(key.createdAt / 1000),
    ...(key.expiresAt !== null ? { exp: Math.floor(key.expiresAt / 1000) } : {}),
    iss: ctx.config.issuer,
  }
}

async function introspectAccessToken(ctx: ServerContext, token: string): Promise<Introspection> {
  try {
    const claims = await ctx.accessTokenVerifier.verify(token)
    return { active: true, token_type: 'Bearer', ...claims }
  } catch (error) {
    if (error instanceof InvalidToken) return INACTIVE
    throw error
  }
}

/** What RFC 7662 says of any token Tessera issues: `active:false` for anything not valid now. */
export function introspect(ctx: ServerContext, token: string): Promise<Introspection> {
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) return introspectRefreshToken(ctx, token)
  if (token.startsWith(API_KEY_PREFIX)) return introspectApiKey(ctx, token)
  return introspectAccessToken(ctx, token)
}

/** POST /oauth/introspect (RFC 7662), for authenticated clients (resource servers). */
export function introspectEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/oauth/introspect',
    {
      preValidation: requireFormBody,
      schema: {
        tags: ['oauth'],
        summary: 'Token introspection (RFC 7662): access tokens, refresh tokens and API keys',
        consumes: ['application/x-www-form-urlencoded'],
        body: formBody(
          {
            token: { type: 'string', maxLength: 8192 },
            token_type_hint: { type: 'string', maxLength: 64 },
            client_id: { type: 'string', maxLength: 255 },
            client_secret: { type: 'string', maxLength: 512 },
          },
          ['token'],
        ),
        response: {
          200: {
            type: 'object',
            properties: { active: { type: 'boolean' } },
            required: ['active'],
            additionalProperties: true,
          },
          ...errorResponses(400, 401, 503),
        },
      },
    },
    async (request: FastifyRequest<{ Body: FormParams }>, reply) => {
      const params = request.body
      const token = requiredParam(params, 'token', 8192)
      const client = await authenticateClient(ctx, request, params)
      // RFC 7662 §2.1 and §4: introspection answers only authenticated callers, or anyone could
      // scan for live tokens; a public client proves nothing by naming itself.
      if (client.isPublic) {
        await ctx.audit.record({
          type: 'client_auth_failed',
          at: ctx.now(),
          clientId: client.id,
          ip: request.ip,
          detail: { reason: 'public_client_cannot_introspect', method: 'none' },
        })
        throw new InvalidClient('client authentication failed')
      }
      reply.header('cache-control', 'no-store')
      return introspect(ctx, token)
    },
  )
}
