import type { FastifyInstance, FastifyRequest } from 'fastify'
import { InvalidRequest } from '../errors.js'

export const FORM_BODY_LIMIT = 16 * 1024
export type FormParams = Record<string, string>

/**
 * RFC 6749 §3.2: parameters sent without a value are treated as omitted, and a parameter must
 * not be sent more than once — a repeated `grant_type` or `scope` is ambiguous, and two parsers
 * that disagree on which copy wins are how smuggling attacks start.
 */
export function rejectDuplicateParams(body: string): FormParams {
  const params: FormParams = Object.create(null)
  for (const [name, value] of new URLSearchParams(body)) {
    if (name in params) throw new InvalidRequest(`the parameter "${name}" is repeated`)
    if (value !== '') params[name] = value
  }
  return params
}

export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      try {
        done(null, rejectDuplicateParams(body as string))
      } catch (error) {
        done(error as Error, undefined)
      }
    },
  )
}

/** OAuth endpoints take form bodies only (RFC 6749 §3.2); JSON or anything else is refused. */
export async function requireFormBody(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('the request body must be application/x-www-form-urlencoded')
  }
}

/** Reads one parameter; a value over `maxLength` is refused before any other work is done. */
export function param(params: FormParams, name: string, maxLength = 2048): string | undefined {
  const value = params[name]
  if (value !== undefined && value.length > maxLength)
    throw new InvalidRequest(`the parameter "${name}" is too long`)
  return value
}

export function requiredParam(params: FormParams, name: string, maxLength = 2048): string {
  const value = param(params, name, maxLength)
  if (value === undefined) throw new InvalidRequest(`the parameter "${name}" is missing`)
  return value
}
