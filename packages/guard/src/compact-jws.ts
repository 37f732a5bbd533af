import { InvalidTokenError } from './errors.js'

export interface CompactJws {
  readonly header: Readonly<Record<string, unknown>>
  readonly payloadSegment: string
  readonly signingInput: Buffer
  readonly signature: Buffer
}

// Buffer.from(…, 'base64url') silently skips characters outside the alphabet, so the
// segments are checked first: otherwise two different strings would verify as one token.
const BASE64URL = /^[A-Za-z0-9_-]+$/

export function isBase64url(segment: string): boolean {
  return segment.length % 4 !== 1 && BASE64URL.test(segment)
}

export function decodeJsonSegment(segment: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidTokenError('malformed')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidTokenError('malformed')
  return value as Record<string, unknown>
}

// One issuer signs with one or two keys, so nearly every token carries one of a handful of
// header segments; their decoded form is kept (frozen, bounded) instead of decoded per token.
const HEADER_CACHE_SIZE = 32
const headers = new Map<string, Readonly<Record<string, unknown>>>()

function decodeHeader(segment: string): Readonly<Record<string, unknown>> {
  let header = headers.get(segment)
  if (header === undefined) {
    header = Object.freeze(decodeJsonSegment(segment))
    if (headers.size >= HEADER_CACHE_SIZE) headers.delete(headers.keys().next().value as string)
    headers.set(segment, header)
  }
  return header
}

/** Splits a compact JWS (RFC 7515 §7.1); the caller has already bounded its length. */
export function parseCompactJws(token: string): CompactJws {
  const first = token.indexOf('.')
  const last = token.lastIndexOf('.')
  if (first <= 0 || last === first || last === token.length - 1 || token.indexOf('.', first + 1) !== last) {
    throw new InvalidTokenError('malformed')
  }
  const headerSegment = token.slice(0, first)
  const payloadSegment = token.slice(first + 1, last)
  const signatureSegment = token.slice(last + 1)
  if (!isBase64url(headerSegment) || !isBase64url(payloadSegment) || !isBase64url(signatureSegment)) {
    throw new InvalidTokenError('malformed')
  }
  return {
    header: decodeHeader(headerSegment),
    payloadSegment,
    signingInput: Buffer.from(token.slice(0, last), 'latin1'),
    signature: Buffer.from(signatureSegment, 'base64url'),
  }
}
