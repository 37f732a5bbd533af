import { type GuardError, type GuardErrorCode, InsufficientScopeError } from './errors.js'

/** An HTTP answer for a refused request, ready for any framework. */
export interface ErrorResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: { readonly error: GuardErrorCode; readonly error_description: string }
}

// Deliberately vague: the precise reason (expired, bad signature, unknown kid …) helps an
// attacker tune forgeries, so it goes to the logs only.
const DESCRIPTIONS: Readonly<Record<GuardErrorCode, string>> = {
  invalid_token: 'The access token is invalid',
  insufficient_scope: 'The access token does not grant access to this resource',
  invalid_request: 'The request carries malformed or conflicting credentials',
  authentication_required: 'Authentication is required',
  invalid_credentials: 'The credentials are invalid',
  temporarily_unavailable: 'Authentication is temporarily unavailable',
}

const RETRY_AFTER_SECONDS = '5'

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`
}

function bearerChallenge(error: GuardError, realm: string): string {
  const parts = [`Bearer realm=${quote(realm)}`]
  // RFC 6750 §3.1: a request with no credentials at all gets a challenge without an error code.
  if (error.code !== 'authentication_required') parts.push(`error=${quote(error.code)}`)
  if (error instanceof InsufficientScopeError && error.scopes.length > 0) {
    parts.push(`scope=${quote(error.scopes.join(' '))}`)
  }
  return parts.join(', ')
}

/**
 * Turns a {@link GuardError} into the RFC 6750 (or RFC 7617 for Basic) HTTP answer.
 *
 * @example
 * ```ts
 * const { status, headers, body } = toErrorResponse(error, 'orders-api')
 * res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body))
 * ```
 */
export function toErrorResponse(error: GuardError, realm = 'api'): ErrorResponse {
  const body = { error: error.code, error_description: DESCRIPTIONS[error.code] }
  const headers: Record<string, string> = { 'cache-control': 'no-store' }
  if (error.code === 'temporarily_unavailable') {
    headers['retry-after'] = RETRY_AFTER_SECONDS
  } else if (error.code === 'invalid_credentials') {
    headers['www-authenticate'] = `Basic realm=${quote(realm)}, charset="UTF-8"`
  } else {
    headers['www-authenticate'] = bearerChallenge(error, realm)
  }
  return { status: error.status, headers, body }
}
