/**
 * OAuth 2 errors (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1). Every error a client can
 * cause is one of these; the error handler turns them into the wire format.
 */
export abstract class OAuthError extends Error {
  abstract readonly error: string
  abstract readonly status: number
  get expose(): boolean {
    return this.status < 500
  }
  get error_description(): string {
    return this.message
  }
  headers(): Record<string, string> {
    return {}
  }
}

export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request'
  readonly status = 400
}

export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client'
  readonly status = 401
  // RFC 6749 §5.2: a 401 for invalid_client must name the scheme the client can use.
  override headers(): Record<string, string> {
    return { 'www-authenticate': 'Basic realm="tessera", charset="UTF-8"' }
  }
}

export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant'
  readonly status = 400
}

export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client'
  readonly status = 400
}

export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type'
  readonly status = 400
}

export class UnsupportedTokenType extends OAuthError {
  readonly error = 'unsupported_token_type'
  readonly status = 400
}

export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope'
  readonly status = 400
}

export class AccessDenied extends OAuthError {
  readonly error = 'access_denied'
  readonly status = 403
}

export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token'
  readonly status = 401
  override headers(): Record<string, string> {
    return { 'www-authenticate': `Bearer realm="tessera", error="invalid_token"` }
  }
}

export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope'
  readonly status = 403
  constructor(readonly scope: string) {
    super(`this request needs the scope "${scope}"`)
  }
  override headers(): Record<string, string> {
    return { 'www-authenticate': `Bearer realm="tessera", error="insufficient_scope", scope="${this.scope}"` }
  }
}

export class NotFound extends OAuthError {
  readonly error = 'not_found'
  readonly status = 404
}

export class PayloadTooLarge extends OAuthError {
  readonly error = 'invalid_request'
  readonly status = 413
}

/** Too many failed attempts (brute-force limit); `Retry-After` says when to try again. */
export class TooManyRequests extends OAuthError {
  readonly error = 'too_many_requests'
  readonly status = 429
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message)
  }
  override headers(): Record<string, string> {
    return { 'retry-after': String(Math.max(1, Math.ceil(this.retryAfterSeconds))) }
  }
}

/** The database (or another dependency) cannot answer: fail closed with 503, never invalid_grant. */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable'
  readonly status = 503
  override headers(): Record<string, string> {
    return { 'retry-after': '1' }
  }
}

/** A store failure: the driver's error is kept as `cause` for the log, never sent to a client. */
export class StoreUnavailable extends TemporarilyUnavailable {
  constructor(cause: unknown) {
    super('the token service cannot reach its database; try again shortly', { cause })
  }
}

/** RFC 6750 §3.1: no credentials at all; the challenge names the scheme but no error code. */
export class MissingToken extends OAuthError {
  readonly error = 'invalid_request'
  readonly status = 401
  override headers(): Record<string, string> {
    return { 'www-authenticate': 'Bearer realm="tessera"' }
  }
}

export const OAUTH_ERRORS = {
  InvalidRequest,
  InvalidClient,
  InvalidGrant,
  UnauthorizedClient,
  UnsupportedGrantType,
  UnsupportedTokenType,
  InvalidScope,
  AccessDenied,
  InvalidToken,
  InsufficientScope,
  NotFound,
  PayloadTooLarge,
  TooManyRequests,
  TemporarilyUnavailable,
  StoreUnavailable,
  MissingToken,
} as const
