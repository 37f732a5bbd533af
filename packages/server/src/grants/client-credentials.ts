import { UnauthorizedClient } from '../errors.js'
import { param } from '../http/form-body.js'
import { grantScope } from '../scope.js'
import type { Grant } from './grant.js'
import { tokenResponse } from './session-tokens.js'

/** Client credentials (RFC 6749 §4.4): a confidential client acting for itself; no refresh token. */
export const clientCredentialsGrant: Grant = {
  grantType: 'client_credentials',
  parameters: ['scope'],
  async handler({ ctx, client, params }) {
    if (client.isPublic) throw new UnauthorizedClient('a public client cannot use client_credentials')
    const scope = grantScope(param(params, 'scope'), client.scopes)
    return tokenResponse(ctx, 'client_credentials', { client, scope })
  },
}
