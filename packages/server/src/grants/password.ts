import { InvalidGrant, TooManyRequests } from '../errors.js'
import { param, requiredParam } from '../http/form-body.js'
import { grantScope } from '../scope.js'
import type { Grant } from './grant.js'
import { startSession } from './session-tokens.js'

/**
 * Resource owner password credentials (RFC 6749 §4.3). Legacy (RFC 9700 §2.4): only clients
 * registered with it may use it; new apps should use the authorization code flow.
 */
export const passwordGrant: Grant = {
  grantType: 'password',
  parameters: ['username', 'password', 'scope'],
  async handler({ ctx, client, params, ip, userAgent }) {
    const username = requiredParam(params, 'username', 255)
    const password = requiredParam(params, 'password', 1024)
    const scope = grantScope(param(params, 'scope'), client.scopes)
    try {
      await ctx.loginLimiter.check(username, ip)
    } catch (error) {
      if (error instanceof TooManyRequests) {
        await ctx.audit.record({
          type: 'login_rate_limited',
          at: ctx.now(),
          clientId: client.id,
          ip,
          detail: { retry_after: Math.ceil(error.retryAfterSeconds) },
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
        clientId: client.id,
        ip,
        detail: { reason: !user ? 'unknown_user' : !valid ? 'wrong_password' : 'user_disabled' },
      })
      // One message for every cause, so the answer does not reveal which usernames exist.
      throw new InvalidGrant('the username or password is incorrect')
    }
    await ctx.loginLimiter.recordSuccess(username)
    const response = await startSession(ctx, 'password', { client, user, scope, ip, userAgent })
    await ctx.audit.record({
      type: 'login_succeeded',
      at: ctx.now(),
      userId: user.id,
      clientId: client.id,
      ip,
    })
    return response
  },
}
