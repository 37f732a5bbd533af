import type { ServerContext } from './context.js'
import type { Session } from './store/store.js'
import type { AccessTokenClaims } from './tokens/access-token.js'

type Ctx = Pick<ServerContext, 'store' | 'metrics' | 'audit' | 'feed' | 'now' | 'config'>

/**
 * Ends one session (a refresh-token family): its refresh token and every access token issued
 * under it stop working. Audited and announced once, by whichever request actually revoked it.
 */
export async function endSession(
  ctx: Ctx,
  session: Session,
  reason: string,
  ip: string | null,
): Promise<boolean> {
  const now = ctx.now()
  const revoked = await ctx.store.revokeSession(session.id, reason, now)
  if (!revoked) return false
  ctx.metrics.sessionsRevoked.inc({ reason })
  await ctx.audit.record({
    type: 'session_revoked',
    at: now,
    userId: session.userId,
    clientId: session.clientId,
    sessionId: session.id,
    ip,
    detail: { reason },
  })
  // Access tokens of the session live at most one access-token lifetime past now.
  await ctx.feed.publish({
    type: 'session_revoked',
    sid: session.id,
    until: now + ctx.config.accessTokenTtl * 1000,
  })
  return true
}

/** Ends every session of a user (sign out everywhere). */
export async function endUserSessions(
  ctx: Ctx,
  userId: string,
  clientId: string | null,
  reason: string,
  ip: string | null,
): Promise<number> {
  const now = ctx.now()
  const revoked = await ctx.store.revokeUserSessions(userId, reason, now)
  ctx.metrics.sessionsRevoked.inc({ reason }, revoked)
  await ctx.audit.record({
    type: 'session_revoked',
    at: now,
    userId,
    clientId,
    ip,
    detail: { reason, count: revoked },
  })
  return revoked
}

/** Puts one access token on the deny-list until it expires (RFC 7009 for access tokens). */
export async function denyAccessToken(ctx: Ctx, claims: AccessTokenClaims, ip: string | null): Promise<void> {
  const until = claims.exp * 1000
  await ctx.store.revokeAccessToken(claims.jti, until)
  await ctx.audit.record({
    type: 'access_token_revoked',
    at: ctx.now(),
    clientId: claims.client_id,
    sessionId: claims.sid ?? null,
    ip,
    detail: { jti: claims.jti },
  })
  await ctx.feed.publish({ type: 'access_token_revoked', jti: claims.jti, until })
}
