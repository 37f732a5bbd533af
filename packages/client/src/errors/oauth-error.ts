import { isTesseraClientError, TesseraClientError } from './tessera-client-error.js'

/** The token server refused a request with an RFC 6749 §5.2 error (`invalid_grant`, …). */
export class OAuthError extends TesseraClientError {
  constructor(
    readonly error: string,
    readonly status: number,
    readonly description?: string,
  ) {
    super('oauth_error', description ? `${error}: ${description}` : error)
    this.name = 'OAuthError'
  }
}

/**
 * True when the server refused with an OAuth error; `error.error` names it.
 *
 * @example
 * if (isOAuthError(e) && e.error === 'invalid_grant') showSignIn()
 */
export function isOAuthError(error: unknown): error is OAuthError {
  return isTesseraClientError(error) && error.code === 'oauth_error'
}
