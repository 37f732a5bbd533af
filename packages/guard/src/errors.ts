/** Why a credential was refused; for logs only, never sent to the caller. */
export type GuardErrorReason =
  | 'missing_credentials'
  | 'malformed'
  | 'too_large'
  | 'unsupported_alg'
  | 'wrong_type'
  | 'forbidden_header'
  | 'unknown_kid'
  | 'bad_signature'
  | 'invalid_claims'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'revoked'
  | 'inactive'
  | 'api_key_not_allowed'
  | 'multiple_credentials'
  | 'missing_scope'
  | 'missing_role'
  | 'missing_permission'
  | 'unknown_user'
  | 'wrong_password'
  | 'jwks_unavailable'
  | 'metadata_unavailable'
  | 'introspection_unavailable'

/** The stable machine-readable codes a {@link GuardError} carries. */
export type GuardErrorCode =
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_request'
  | 'authentication_required'
  | 'invalid_credentials'
  | 'temporarily_unavailable'

/** HTTP statuses a {@link GuardError} maps to. */
export type GuardErrorStatus = 400 | 401 | 403 | 503

/**
 * Base class of every error the guard throws when it refuses a request.
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verify(token)
 * } catch (error) {
 *   if (error instanceof GuardError) console.log(error.code, error.status, error.reason)
 * }
 * ```
 */
export class GuardError extends Error {
  override readonly name: string = 'GuardError'
  readonly code: GuardErrorCode
  readonly status: GuardErrorStatus
  readonly reason: GuardErrorReason

  constructor(
    code: GuardErrorCode,
    status: GuardErrorStatus,
    reason: GuardErrorReason,
    options?: ErrorOptions,
  ) {
    super(`${code} (${reason})`, options)
    this.code = code
    this.status = status
    this.reason = reason
  }
}

/**
 * The bearer token is missing a piece, malformed, forged, expired, revoked or meant for someone else (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * throw new InvalidTokenError('expired')
 * ```
 */
export class InvalidTokenError extends GuardError {
  override readonly name = 'InvalidTokenError'
  constructor(reason: GuardErrorReason = 'malformed', options?: ErrorOptions) {
    super('invalid_token', 401, reason, options)
  }
}

/**
 * The token is valid but lacks a scope, role or permission the route needs (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * throw new InsufficientScopeError('missing_scope', ['orders:write'])
 * ```
 */
export class InsufficientScopeError extends GuardError {
  override readonly name = 'InsufficientScopeError'
  /** The scopes the route needs, advertised in the `scope` challenge attribute; empty for role checks. */
  readonly scopes: readonly string[]
  constructor(reason: GuardErrorReason = 'missing_scope', scopes: readonly string[] = []) {
    super('insufficient_scope', 403, reason)
    this.scopes = scopes
  }
}

/**
 * The request carries credentials in a broken or ambiguous way (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * throw new InvalidRequestError('multiple_credentials')
 * ```
 */
export class InvalidRequestError extends GuardError {
  override readonly name = 'InvalidRequestError'
  constructor(reason: GuardErrorReason = 'malformed') {
    super('invalid_request', 400, reason)
  }
}

/**
 * The request carries no credentials at all; the challenge then names no error (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * throw new AuthenticationRequiredError()
 * ```
 */
export class AuthenticationRequiredError extends GuardError {
  override readonly name = 'AuthenticationRequiredError'
  constructor() {
    super('authentication_required', 401, 'missing_credentials')
  }
}

/**
 * HTTP Basic credentials are missing, malformed or wrong (RFC 7617).
 *
 * @example
 * ```ts
 * throw new InvalidCredentialsError('wrong_password')
 * ```
 */
export class InvalidCredentialsError extends GuardError {
  override readonly name = 'InvalidCredentialsError'
  constructor(reason: GuardErrorReason = 'missing_credentials') {
    super('invalid_credentials', 401, reason)
  }
}

/**
 * The key set, metadata or introspection endpoint could not be reached; the request is refused, never let through.
 *
 * @example
 * ```ts
 * throw new TemporarilyUnavailableError('jwks_unavailable')
 * ```
 */
export class TemporarilyUnavailableError extends GuardError {
  override readonly name = 'TemporarilyUnavailableError'
  constructor(reason: GuardErrorReason = 'jwks_unavailable', options?: ErrorOptions) {
    super('temporarily_unavailable', 503, reason, options)
  }
}

/**
 * Tells whether a value is a {@link GuardError}, also across two installed copies of the package.
 *
 * @example
 * ```ts
 * if (isGuardError(error)) reply.code(error.status)
 * ```
 */
export function isGuardError(value: unknown): value is GuardError {
  if (value instanceof GuardError) return true
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as { code?: unknown; status?: unknown; reason?: unknown }
  return (
    typeof candidate.code === 'string' &&
    typeof candidate.status === 'number' &&
    typeof candidate.reason === 'string' &&
    value instanceof Error
  )
}
