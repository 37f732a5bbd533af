import { isTesseraClientError, TesseraClientError } from './tessera-client-error.js'

/** The token server could not be reached, or answered 429/5xx, after every retry. Not a logout. */
export class NetworkError extends TesseraClientError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('network_error', message, options)
    this.name = 'NetworkError'
  }
}

/**
 * True when a request failed for lack of the server, not because of the user's session.
 *
 * @example
 * if (isNetworkError(e)) showOfflineBanner()
 */
export function isNetworkError(error: unknown): error is NetworkError {
  return isTesseraClientError(error) && error.code === 'network_error'
}
