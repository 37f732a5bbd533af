import type { ServerContext } from '../context.js'
import type { Client, Session, User } from '../store/store.js'
import { RefreshTokenCodec } from '../tokens/refresh-token.js'
import type { TokenResponse } from './grant.js'

/** The access token (and, for a session, the refresh token) of one response. */
export async function tokenResponse(
  ctx: ServerContext,
  grantType: string,
  input: {
    client: Client
    scope: string
    user?: Pick<User, 'id' | 'roles'>
    session?: Pick<Session, 'id' | 'generation'>
  },
): Promise<TokenResponse> {
  const { client, scope, user, session } = input
  const access = await ctx.accessTokens.issueInBatch({
    subject: user?.id ?? client.id,
    clientId: client.id,
    scope,
    ...(session ? { sessionId: session.id } : {}),
    ...(user ? { roles: user.roles } : {}),
  })
  ctx.metrics.tokensIssued.inc({ grant_type: grantType })
  const response: TokenResponse = {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    scope,
  }
  if (session) response.refresh_token = ctx.refreshTokens.encode(session.id, session.generation)
  return response
}

/**
 * Starts a session (a refresh-token family) for a user who has just signed in, when the client
 * may refresh; otherwise the response carries an access token alone.
 */
export async function startSession(
  ctx: ServerContext,
  grantType: string,
  input: {
    client: Client
    user: User
    scope: string
    ip: string
    userAgent: string | undefined
    sessionId?: string
  },
): Promise<TokenResponse> {
  const { client, user, scope } = input
  if (!client.grantTypes.includes('refresh_token'))
    return tokenResponse(ctx, grantType, { client, scope, user })
  const now = ctx.now()
  const absolute = now + ctx.config.refreshAbsoluteTtl * 1000
  const session: Session = {
    id: input.sessionId ?? RefreshTokenCodec.newSessionId(),
    userId: user.id,
    clientId: client.id,
    scope,
    generation: 0,
    createdAt: now,
    lastUsedAt: now,
    idleExpiresAt: Math.min(now + ctx.config.refreshIdleTtl * 1000, absolute),
    absoluteExpiresAt: absolute,
    rotatedAt: null,
    prevRotatedAt: null,
    revokedAt: null,
    revokedReason: null,
    userAgent: input.userAgent?.slice(0, 512) ?? null,
    ip: input.ip,
  }
  await ctx.store.createSession(session)
  return tokenResponse(ctx, grantType, { client, scope, user, session })
}
