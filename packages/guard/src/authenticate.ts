import type { AccessTokenClaims } from './claims.js'
import { AuthenticationRequiredError, InvalidRequestError, InvalidTokenError } from './errors.js'
import { type AccessRequirements, type AuthInfo, checkAccess, splitScope } from './roles.js'
import type { ApiKeyInfo, Verifier } from './verify.js'

/** The credential-bearing parts of a request. */
export interface RequestCredentials {
  /** The `Authorization` header. */
  readonly authorization?: string | undefined
  /** The `X-API-Key` header. */
  readonly apiKey?: string | undefined
}

const API_KEY_PREFIX = 'tsk_'
// Anything that is not a single visible word is a broken request (400); a word that is not a
// valid token is left to the verifier, which answers 401 invalid_token so the client can recover.
const SINGLE_WORD = /^[\x21-\x7e]+$/

/** The bearer token of an `Authorization` header, or `undefined` when it uses another scheme. */
export function readBearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization === '') return undefined
  const space = authorization.indexOf(' ')
  const scheme = space === -1 ? authorization : authorization.slice(0, space)
  // Auth schemes are case-insensitive (RFC 9110 §11.1).
  if (scheme.toLowerCase() !== 'bearer') return undefined
  const token = space === -1 ? '' : authorization.slice(space + 1).trim()
  if (!SINGLE_WORD.test(token)) throw new InvalidRequestError('malformed')
  return token
}

export function authFromClaims(claims: AccessTokenClaims, verifier: Verifier): AuthInfo {
  const roles = claims.roles ?? []
  return {
    type: 'access_token',
    sub: claims.sub,
    clientId: claims.client_id,
    scopes: splitScope(claims.scope),
    roles,
    permissions: verifier.permissionsFor(roles),
    ...(claims.sid === undefined ? {} : { sid: claims.sid }),
    jti: claims.jti,
    exp: claims.exp,
    claims,
  }
}

export function authFromApiKey(answer: ApiKeyInfo): AuthInfo {
  return {
    type: 'api_key',
    sub: answer.sub,
    clientId: answer.client_id,
    scopes: splitScope(answer.scope),
    roles: [],
    permissions: [],
    ...(answer.exp === undefined ? {} : { exp: answer.exp }),
    claims: answer,
  }
}

/** Throws `TypeError` when a route asks for API keys the verifier cannot check. */
export function assertSupported(verifier: Verifier, requirements: AccessRequirements): void {
  if (requirements.apiKeys && !verifier.canIntrospect) {
    throw new TypeError('apiKeys: true needs the introspection option of createVerifier')
  }
}

/**
 * Authenticates a request from its headers and checks it meets `requirements`.
 *
 * Returns `undefined` only for `optional` requirements without credentials; otherwise returns
 * who is calling or throws a {@link GuardError}. Framework-free: the adapters are built on it.
 *
 * @example
 * ```ts
 * const auth = await authenticate(verifier, { authorization: req.headers.authorization }, { scopes: ['read'] })
 * ```
 */
export async function authenticate(
  verifier: Verifier,
  credentials: RequestCredentials,
  requirements: AccessRequirements = {},
): Promise<AuthInfo | undefined> {
  const bearer = readBearerToken(credentials.authorization)
  const apiKey = credentials.apiKey
  // RFC 6750 §2: a client must not use more than one method to send credentials.
  if (bearer !== undefined && apiKey !== undefined) throw new InvalidRequestError('multiple_credentials')
  const presented = bearer ?? apiKey
  if (presented === undefined) {
    if (requirements.optional) return undefined
    throw new AuthenticationRequiredError()
  }
  let auth: AuthInfo
  if (apiKey !== undefined || presented.startsWith(API_KEY_PREFIX)) {
    if (!requirements.apiKeys) throw new InvalidTokenError('api_key_not_allowed')
    auth = authFromApiKey(await verifier.verifyApiKey(presented))
  } else {
    auth = authFromClaims(await verifier.verify(presented), verifier)
  }
  checkAccess(auth, requirements)
  return auth
}

/** Reuses the identity an earlier hook established, so stacked checks verify the token once. */
export async function authorizeRequest(
  verifier: Verifier,
  current: AuthInfo | null | undefined,
  credentials: RequestCredentials,
  requirements: AccessRequirements,
): Promise<AuthInfo | undefined> {
  if (current && current.type !== 'basic') {
    checkAccess(current, requirements)
    return current
  }
  return authenticate(verifier, credentials, requirements)
}
