export type { Algorithm } from './algorithms.js'
export type { RequestCredentials } from './authenticate.js'
export { authenticate } from './authenticate.js'
export type { BasicAuth, BasicAuthOptions, BasicCredentials } from './basic-auth.js'
export { createBasicAuth, hashBasicCredential, parseBasicAuthorization } from './basic-auth.js'
export type { ErrorResponse } from './challenge.js'
export { toErrorResponse } from './challenge.js'
export type { AccessTokenClaims } from './claims.js'
export type { GuardErrorCode, GuardErrorReason, GuardErrorStatus } from './errors.js'
export {
  AuthenticationRequiredError,
  GuardError,
  InsufficientScopeError,
  InvalidCredentialsError,
  InvalidRequestError,
  InvalidTokenError,
  isGuardError,
  TemporarilyUnavailableError,
} from './errors.js'
export type { IntrospectionOptions, IntrospectionResponse } from './introspection.js'
export type { StaticKey } from './jwks.js'
export type { RevocationTarget } from './revocation-list.js'
export type { AccessRequirements, AuthInfo, PermissionMap } from './roles.js'
export { checkAccess } from './roles.js'
export type { ApiKeyInfo, GuardLogger, Verifier, VerifierOptions } from './verify.js'
export { createVerifier } from './verify.js'
