import { isTesseraClientError, TesseraClientError } from './tessera-client-error.js'

/**
 * The issuer's RFC 8414 metadata is missing, malformed or names another issuer: a configuration
 * problem, not an outage, so the client does not retry it.
 */
export class DiscoveryError extends TesseraClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('discovery_error', message, options)
    this.name = 'DiscoveryError'
  }
}

/**
 * True when the issuer's metadata could not be used (wrong `issuer` URL, or not a Tessera server).
 *
 * @example
 * if (isDiscoveryError(e)) console.error('check the issuer URL:', e.message)
 */
export function isDiscoveryError(error: unknown): error is DiscoveryError {
  return isTesseraClientError(error) && error.code === 'discovery_error'
}
