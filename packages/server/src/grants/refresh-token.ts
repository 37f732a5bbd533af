import type { ServerContext } from '../context.js'
import { InvalidGrant, InvalidScope } from '../errors.js'
import { param, requiredParam } from '../http/form-body.js'
import { endSession } from '../revocation.js'
import { parseScope } from '../scope.js'
import type { Client, RotatedSession, Session } from '../store/store.js'
import type { Grant, TokenResponse } from './grant.js'
import { tokenResponse } from './session-tokens.js'

const INVALID = 'the refresh token is invalid, expired or revoked'

/** RFC 6749 §6: a narrower scope may be asked for; the session keeps its original scope. */
function narrowScope(requested: string | undefined, session: Pick<Session, 'scope'>): string {
  const asked = parseScope(requested)
  if (asked.length === 0) return session.scope
  const granted = session.scope === '' ? [] : session.scope.split(' ')
  const outside = asked.filter((s) => !granted.includes(s))
  if (outside.length > 0) throw new InvalidScope(`scope broader than the session's: ${outside.join(' ')}`)
  return asked.join(' ')
}

/**
 * When the presented generation was itself rotated. The session row keeps the last two
 * rotation times; an older generation was rotated no later than the earlier of them.
 */
function rotatedAt(session: Session, generation: number): number | null {
  if (generation === session.generation - 1) return session.rotatedAt
  if (generation === session.generation - 2) return session.prevRotatedAt
  return null
}

const isLive = (session: Session, now: number) =>
  session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now

/**
 * Refresh with rotation (SPEC §6). One conditional update advances the session's generation,
 * so each token has at most one successor whatever the concurrency. A token rotated moments ago
 * (within the grace window) is answered with the session's current token — the same successor
 * or a later one, never a second branch — so lost responses and parallel tabs log nobody out.
 * Anything older is reuse: the whole session is revoked.
 */
export const refreshTokenGrant: Grant = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope'],
  async handler({ ctx, client, params, ip }) {
    const token = requiredParam(params, 'refresh_token', 512)
    const claims = ctx.refreshTokens.decode(token)
    if (!claims) return invalid(ctx)
    const requestedScope = param(params, 'scope')
    if (requestedScope !== undefined) {
      // Checked before rotating: a refused scope must not cost the client its refresh token.
      const before = await ctx.store.findSession(claims.sessionId)
      if (!before || before.clientId !== client.id) return invalid(ctx)
      narrowScope(requestedScope, before)
    }
    const now = ctx.now()
    const result = await ctx.store.rotateRefreshToken({
      sessionId: claims.sessionId,
      generation: claims.generation,
      clientId: client.id,
      now,
      idleTtlMs: ctx.config.refreshIdleTtl * 1000,
    })
    if (result.kind === 'missing') return invalid(ctx)
    if (result.kind === 'rotated') {
      const scope = narrowScope(requestedScope, result.session)
      ctx.metrics.refreshes.inc({ outcome: 'rotated' })
      return respond(ctx, client, result.session, scope, result.userRoles)
    }
    const { session } = result
    if (session.clientId !== client.id || !isLive(session, now) || claims.generation >= session.generation) {
      return invalid(ctx)
    }
    const rotated = rotatedAt(session, claims.generation)
    // A rotation that landed after this request read its clock (a concurrent racer) counts as age 0.
    if (rotated !== null && Math.max(0, now - rotated) < ctx.config.refreshReuseGrace * 1000) {
      const scope = narrowScope(requestedScope, session)
      const user = session.userId === null ? undefined : await ctx.store.findUserById(session.userId)
      ctx.metrics.refreshes.inc({ outcome: 'grace' })
      return respond(ctx, client, session, scope, user?.roles ?? [])
    }
    return reuseDetected(ctx, session, claims.generation, ip)
  },
}

function respond(
  ctx: ServerContext,
  client: Client,
  session: RotatedSession,
  scope: string,
  roles: string[],
): Promise<TokenResponse> {
  const user = session.userId === null ? undefined : { id: session.userId, roles }
  return tokenResponse(ctx, 'refresh_token', { client, scope, session, ...(user ? { user } : {}) })
}

function invalid(ctx: ServerContext): never {
  ctx.metrics.refreshes.inc({ outcome: 'invalid' })
  throw new InvalidGrant(INVALID)
}

async function reuseDetected(
  ctx: ServerContext,
  session: Session,
  generation: number,
  ip: string,
): Promise<never> {
  ctx.metrics.refreshes.inc({ outcome: 'reuse' })
  ctx.metrics.reuseDetected.inc()
  await ctx.audit.record({
    type: 'refresh_reuse_detected',
    at: ctx.now(),
    userId: session.userId,
    clientId: session.clientId,
    sessionId: session.id,
    ip,
    detail: { presented_generation: generation, current_generation: session.generation },
  })
  await endSession(ctx, session, 'refresh_reuse', ip)
  throw new InvalidGrant(INVALID)
}
