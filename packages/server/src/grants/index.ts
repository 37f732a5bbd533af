import { authorizationCodeGrant } from './authorization-code.js'
import { clientCredentialsGrant } from './client-credentials.js'
import type { Grant } from './grant.js'
import { passwordGrant } from './password.js'
import { refreshTokenGrant } from './refresh-token.js'

/** Every grant the token endpoint serves, by grant_type. Adding a grant is one file and one line. */
export const GRANTS: ReadonlyMap<string, Grant> = new Map(
  [authorizationCodeGrant, passwordGrant, clientCredentialsGrant, refreshTokenGrant].map((grant) => [
    grant.grantType,
    grant,
  ]),
)
