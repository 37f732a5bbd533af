import { InvalidGrant } from '../errors.js'
import { param, requiredParam } from '../http/form-body.js'
import { grantScope } from '../scope.js'
import { checkPassword } from '../security/password-sign-in.js'
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
    const user = await checkPassword(ctx, {
      username,
      password,
      ip,
      clientId: client.id,
      via: 'password_grant',
    })
    // One message for every cause, so the answer does not reveal which usernames exist.
    if (!user) throw new InvalidGrant('the username or password is incorrect')
    return startSession(ctx, 'password', { client, user, scope, ip, userAgent })
  },
}
