const BRAND = Symbol.for('tessera.client.error')

export type ClientErrorCode = 'oauth_error' | 'network_error' | 'not_signed_in' | 'discovery_error'

/**
 * The base of every error `@tessera/client` throws; `code` is stable. The brand is a global
 * symbol, so the `is…Error()` guards work across two installed copies of the package.
 */
export class TesseraClientError extends Error {
  readonly [BRAND] = true
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'TesseraClientError'
  }
}

/**
 * True for any error thrown by `@tessera/client`, from this copy of the package or another.
 *
 * @example
 * try { await client.fetch(url) } catch (error) { if (isTesseraClientError(error)) console.log(error.code) }
 */
export function isTesseraClientError(error: unknown): error is TesseraClientError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true
}
