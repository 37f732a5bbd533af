import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const REFRESH_TOKEN_PREFIX = 'tsr_'
const SESSION_ID_BYTES = 16
const MAC_BYTES = 32
const BODY_BYTES = SESSION_ID_BYTES + 4 + MAC_BYTES
const TOKEN_LENGTH = REFRESH_TOKEN_PREFIX.length + Math.ceil((BODY_BYTES * 4) / 3)

// The body's last base64url character carries 2 bits of data and 4 of padding; decoders ignore
// the padding, so 'A', 'B', 'C' … 'P' there would all spell one token. Only the canonical spelling
// (padding bits zero: A, Q, g or w) is accepted, so each token has exactly one string.
const CANONICAL = /^[A-Za-z0-9_-]+[AQgw]$/

export interface RefreshTokenClaims {
  sessionId: string
  generation: number
}

/**
 * Refresh tokens are `tsr_` + base64url(session id ‖ generation ‖ HMAC-SHA256(key, both)).
 *
 * The token is a keyed MAC (SPEC §6): the database holds only the session's generation
 * counter, so a leaked dump cannot be replayed, and the server can re-derive a session's
 * current token. That is what lets a retry inside the grace window receive the very same
 * successor instead of a second branch.
 */
export class RefreshTokenCodec {
  readonly #key: Buffer

  constructor(macKey: Buffer) {
    this.#key = macKey
  }

  static newSessionId(): string {
    return randomBytes(SESSION_ID_BYTES).toString('base64url')
  }

  encode(sessionId: string, generation: number): string {
    const body = Buffer.allocUnsafe(BODY_BYTES)
    body.write(sessionId, 0, SESSION_ID_BYTES, 'base64url')
    body.writeUInt32BE(generation, SESSION_ID_BYTES)
    this.#mac(body.subarray(0, SESSION_ID_BYTES + 4)).copy(body, SESSION_ID_BYTES + 4)
    return REFRESH_TOKEN_PREFIX + body.toString('base64url')
  }

  /** Returns the claims of an authentic token, or undefined for anything else. */
  decode(token: string): RefreshTokenClaims | undefined {
    if (token.length !== TOKEN_LENGTH || !token.startsWith(REFRESH_TOKEN_PREFIX)) return undefined
    const text = token.slice(REFRESH_TOKEN_PREFIX.length)
    if (!CANONICAL.test(text)) return undefined
    const body = Buffer.from(text, 'base64url')
    if (body.length !== BODY_BYTES) return undefined
    const signed = body.subarray(0, SESSION_ID_BYTES + 4)
    // Constant-time: a byte-wise early exit would let an attacker forge a MAC byte by byte.
    if (!timingSafeEqual(this.#mac(signed), body.subarray(SESSION_ID_BYTES + 4))) return undefined
    return {
      sessionId: body.subarray(0, SESSION_ID_BYTES).toString('base64url'),
      generation: body.readUInt32BE(SESSION_ID_BYTES),
    }
  }

  #mac(data: Buffer): Buffer {
    return createHmac('sha256', this.#key).update('tsr1').update(data).digest()
  }
}
