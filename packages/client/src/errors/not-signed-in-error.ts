import { isTesseraClientError, TesseraClientError } from './tessera-client-error.js'

/** There is no session to use: sign in first (or again, after a logout). */
export class NotSignedInError extends TesseraClientError {
  constructor() {
    super('not_signed_in', 'not signed in')
    this.name = 'NotSignedInError'
  }
}

/**
 * True when a call needed a session and there was none.
 *
 * @example
 * if (isNotSignedInError(e)) location.assign('/sign-in')
 */
export function isNotSignedInError(error: unknown): error is NotSignedInError {
  return isTesseraClientError(error) && error.code === 'not_signed_in'
}
