import { InvalidTokenError } from './errors.js'

/** The claims of a Tessera access token (RFC 9068 §2.2). */
export interface AccessTokenClaims {
  readonly iss: string
  readonly sub: string
  readonly aud: string | readonly string[]
  readonly exp: number
  readonly iat: number
  readonly jti: string
  readonly client_id: string
  readonly scope?: string
  readonly sid?: string
  readonly roles?: readonly string[]
  readonly nbf?: number
  readonly [claim: string]: unknown
}

export interface ClaimRules {
  readonly issuer: string
  readonly audiences: ReadonlySet<string>
  readonly clockTolerance: number
}

const isString = (value: unknown): value is string => typeof value === 'string'
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)

function hasRequiredShape(payload: Record<string, unknown>): boolean {
  return (
    isString(payload.iss) &&
    isString(payload.sub) &&
    isString(payload.jti) &&
    isString(payload.client_id) &&
    isNumber(payload.exp) &&
    isNumber(payload.iat) &&
    (payload.nbf === undefined || isNumber(payload.nbf)) &&
    (payload.scope === undefined || isString(payload.scope)) &&
    (payload.sid === undefined || isString(payload.sid)) &&
    (payload.roles === undefined || (Array.isArray(payload.roles) && payload.roles.every(isString))) &&
    (isString(payload.aud) || (Array.isArray(payload.aud) && payload.aud.every(isString)))
  )
}

function audienceMatches(aud: string | readonly string[], audiences: ReadonlySet<string>): boolean {
  if (typeof aud === 'string') return audiences.has(aud)
  for (const candidate of aud) if (audiences.has(candidate)) return true
  return false
}

/** Checks an already signature-verified payload against RFC 9068 §4; `now` in milliseconds. */
export function validateClaims(
  payload: Record<string, unknown>,
  rules: ClaimRules,
  now: number,
): AccessTokenClaims {
  if (!hasRequiredShape(payload)) throw new InvalidTokenError('invalid_claims')
  const claims = payload as unknown as AccessTokenClaims
  const seconds = now / 1000
  if (claims.iss !== rules.issuer) throw new InvalidTokenError('wrong_issuer')
  if (!audienceMatches(claims.aud, rules.audiences)) throw new InvalidTokenError('wrong_audience')
  if (seconds >= claims.exp + rules.clockTolerance) throw new InvalidTokenError('expired')
  if (claims.nbf !== undefined && claims.nbf > seconds + rules.clockTolerance)
    throw new InvalidTokenError('not_yet_valid')
  if (claims.iat > seconds + rules.clockTolerance) throw new InvalidTokenError('issued_in_future')
  // Cached claims are shared between requests; freezing stops one handler changing another's view.
  if (Array.isArray(claims.aud)) Object.freeze(claims.aud)
  if (claims.roles) Object.freeze(claims.roles)
  return Object.freeze(claims)
}
