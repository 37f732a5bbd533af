import type { ServerContext } from '../context.js'
import { TooManyRequests } from '../errors.js'
import type { User } from '../store/store.js'

export interface PasswordAttempt {
  username: string
  password: string
  ip: string
  clientId: string | null
  /** Where the attempt came from, for the audit trail: the password grant or a hosted page. */
  via: 'password_grant' | 'authorize' | 'account'
}

/**
 * Checks a username and password the one way every sign-in does: brute-force limits first
 * (throws {@link TooManyRequests}, audited), then argon2id — as slow for an unknown user as for
 * a known one — with failures counted and audited and success clearing the count. Returns the
 * user, or undefined for every kind of failure alike, so no caller can reveal which usernames exist.
 */
export async function checkPassword(ctx: ServerContext, attempt: PasswordAttempt): Promise<User | undefined> {
  const { username, password, ip, clientId, via } = attempt
  try {
    await ctx.loginLimiter.check(username, ip)
  } catch (error) {
    if (error instanceof TooManyRequests) {
      await ctx.audit.record({
        type: 'login_rate_limited',
        at: ctx.now(),
        clientId,
        ip,
        detail: { via, retry_after: Math.ceil(error.retryAfterSeconds) },
      })
    }
    throw error
  }
  const user = await ctx.store.findUserByUsername(username)
  const valid = user
    ? await ctx.passwords.verify(user.passwordHash, password)
    : await ctx.passwords.verifyNobody(password)
  if (!user || !valid || user.disabledAt !== null) {
    await ctx.loginLimiter.recordFailure(username, ip)
    await ctx.audit.record({
      type: 'login_failed',
      at: ctx.now(),
      userId: user?.id ?? null,
      clientId,
      ip,
      detail: { via, reason: !user ? 'unknown_user' : !valid ? 'wrong_password' : 'user_disabled' },
    })
    return undefined
  }
  await ctx.loginLimiter.recordSuccess(username)
  await ctx.audit.record({
    type: 'login_succeeded',
    at: ctx.now(),
    userId: user.id,
    clientId,
    ip,
    detail: { via },
  })
  return user
}
