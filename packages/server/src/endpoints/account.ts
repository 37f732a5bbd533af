import type { FastifyInstance, FastifyRequest } from 'fastify'
import { clearRefreshCookie } from '../browser/refresh-cookie.js'
import type { ServerContext } from '../context.js'
import { AccessDenied, NotFound } from '../errors.js'
import { authenticateBearer } from '../http/bearer-auth.js'
import { denyAccessToken, endSession, endUserSessions } from '../revocation.js'
import type { Session } from '../store/store.js'
import type { AccessTokenClaims } from '../tokens/access-token.js'
import { errorResponses } from './schemas.js'

async function requireUser(
  ctx: ServerContext,
  request: FastifyRequest,
): Promise<AccessTokenClaims & { sid?: string }> {
  const claims = await authenticateBearer(ctx, request)
  if (claims.sid === undefined && claims.sub === claims.client_id) {
    throw new AccessDenied('this access token was issued to a client, not to a user')
  }
  return claims
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function describeSession(session: Session, currentSid: string | undefined) {
  return {
    id: session.id,
    client_id: session.clientId,
    scope: session.scope,
    created_at: iso(session.createdAt),
    last_used_at: iso(session.lastUsedAt),
    expires_at: iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)),
    user_agent: session.userAgent,
    ip: session.ip,
    current: session.id === currentSid,
  }
}

const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    client_id: { type: 'string' },
    scope: { type: 'string' },
    created_at: { type: 'string' },
    last_used_at: { type: 'string' },
    expires_at: { type: 'string' },
    user_agent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    current: { type: 'boolean' },
  },
} as const

const bearer = [{ bearerAuth: [] }]

/** The account API: the signed-in user, their sessions, and signing out (one or everywhere). */
export function accountEndpoints(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/me',
    {
      schema: {
        tags: ['account'],
        summary: 'The user behind the access token',
        security: bearer,
        response: {
          200: {
            type: 'object',
            properties: {
              sub: { type: 'string' },
              username: { type: 'string' },
              roles: { type: 'array', items: { type: 'string' } },
              client_id: { type: 'string' },
              scope: { type: 'string' },
              sid: { type: 'string' },
            },
          },
          ...errorResponses(401, 403, 503),
        },
      },
    },
    async (request) => {
      const claims = await requireUser(ctx, request)
      const user = await ctx.store.findUserById(claims.sub)
      if (!user || user.disabledAt !== null) throw new AccessDenied('this user is disabled')
      return {
        sub: user.id,
        username: user.username,
        roles: user.roles,
        client_id: claims.client_id,
        scope: claims.scope,
        sid: claims.sid,
      }
    },
  )

  app.get(
    '/sessions',
    {
      schema: {
        tags: ['account'],
        summary: "The user's active sessions (one per signed-in app or device)",
        security: bearer,
        response: {
          200: { type: 'object', properties: { sessions: { type: 'array', items: sessionSchema } } },
          ...errorResponses(401, 403, 503),
        },
      },
    },
    async (request) => {
      const claims = await requireUser(ctx, request)
      const sessions = await ctx.store.listActiveSessions(claims.sub, ctx.now())
      return { sessions: sessions.map((s) => describeSession(s, claims.sid)) }
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/sessions/:id',
    {
      schema: {
        tags: ['account'],
        summary: 'Revoke one of the user’s sessions; its refresh and access tokens stop working',
        security: bearer,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 204: { type: 'null', description: 'revoked' }, ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const claims = await requireUser(ctx, request)
      const session = await ctx.store.findSession(request.params.id)
      if (!session || session.userId !== claims.sub || session.revokedAt !== null) {
        throw new NotFound('no such active session')
      }
      await endSession(ctx, session, 'revoked_by_user', request.ip)
      return reply.code(204).send()
    },
  )

  app.post(
    '/logout',
    {
      schema: {
        tags: ['account'],
        summary: 'Sign out this session (the one the access token belongs to)',
        security: bearer,
        response: { 204: { type: 'null', description: 'signed out' }, ...errorResponses(401, 403, 503) },
      },
    },
    async (request, reply) => {
      const claims = await requireUser(ctx, request)
      await denyAccessToken(ctx, claims, request.ip)
      const session = claims.sid === undefined ? undefined : await ctx.store.findSession(claims.sid)
      if (session) await endSession(ctx, session, 'logout', request.ip)
      clearRefreshCookie(ctx, reply)
      return reply.code(204).send()
    },
  )

  app.post(
    '/logout/all',
    {
      schema: {
        tags: ['account'],
        summary: 'Sign out everywhere: every session of the user',
        security: bearer,
        response: {
          200: { type: 'object', properties: { revoked: { type: 'integer' } } },
          ...errorResponses(401, 403, 503),
        },
      },
    },
    async (request, reply) => {
      const claims = await requireUser(ctx, request)
      await denyAccessToken(ctx, claims, request.ip)
      const revoked = await endUserSessions(ctx, claims.sub, claims.client_id, 'logout_all', request.ip)
      clearRefreshCookie(ctx, reply)
      return { revoked }
    },
  )
}
