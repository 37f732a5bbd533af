// The swagger plugin's types add tags, summary and security to route schemas.
import type {} from '@fastify/swagger'

/** JSON Schemas shared by the routes: they validate requests, shape responses and feed /openapi.json. */

const errorBody = {
  type: 'object',
  properties: {
    error: { type: 'string', description: 'OAuth error code (RFC 6749 §5.2, RFC 6750 §3.1)' },
    error_description: { type: 'string' },
    request_id: { type: 'string' },
  },
  required: ['error'],
} as const

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid request (RFC 6749 §5.2)',
  401: 'client or bearer authentication failed',
  403: 'not allowed',
  404: 'not found',
  413: 'body too large',
  429: 'rate limited; see Retry-After',
  503: 'a dependency is unavailable; try again (fail closed)',
}

export function errorResponses(...statuses: number[]): Record<number, object> {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: STATUS_TEXT[status], ...errorBody }]),
  )
}

export type StringSchema = {
  type: 'string'
  maxLength?: number
  enum?: readonly string[]
  description?: string
}

/** A form body: named string parameters; unknown parameters are ignored (RFC 6749 §3.1). */
export function formBody(properties: Record<string, StringSchema>, required: readonly string[] = []): object {
  return { type: 'object', properties, required, additionalProperties: true }
}

export const tokenResponse = {
  type: 'object',
  description: 'RFC 6749 §5.1 access token response',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    scope: { type: 'string' },
  },
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
} as const
