import { isTesseraClientError, TesseraClientError } from './tessera-client-error.js'

/** The token server could not be reached, or answered 429/5xx, after every retry. Not a logout. */
export class NetworkError extends TesseraClientError {
  /** The last status the server answered, when it answered at all. */
  readonly status: number | undefined
  /** How long the server asked to wait (`Retry-After`), in ms, when it said. */
  readonly retryAfterMs: number | undefined

  constructor(
    message: string,
    status?: number,
    options?: { cause?: unknown; retryAfterMs?: number | undefined },
  ) {
    super('network_error', message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NetworkError'
    this.status = status
    this.retryAfterMs = options?.retryAfterMs
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
