import { createHmac, type KeyObject, timingSafeEqual, verify } from 'node:crypto'

/** JWS algorithms the guard can verify; `none` is deliberately absent. */
export type Algorithm = 'EdDSA' | 'ES256' | 'RS256' | 'HS256'

export const SUPPORTED_ALGORITHMS: readonly Algorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256']
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = ['EdDSA', 'ES256', 'RS256']

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (SUPPORTED_ALGORITHMS as readonly string[]).includes(value)
}

// Which algorithm a key may serve is decided by the key's own type, never by the token header:
// this is what stops RS256/EdDSA public keys being used as HMAC secrets (alg confusion).
export function algorithmsForKey(key: KeyObject): Algorithm[] {
  if (key.type === 'secret') return (key.symmetricKeySize ?? 0) >= 32 ? ['HS256'] : []
  if (key.type !== 'public') return []
  const details = key.asymmetricKeyDetails
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return ['EdDSA']
    case 'ec':
      return details?.namedCurve === 'prime256v1' ? ['ES256'] : []
    case 'rsa':
      return (details?.modulusLength ?? 0) >= 2048 ? ['RS256'] : []
    default:
      return []
  }
}

const ES256_SIGNATURE_LENGTH = 64
const HS256_SIGNATURE_LENGTH = 32

export function verifySignature(alg: Algorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  switch (alg) {
    case 'EdDSA':
      return verify(null, data, key, signature)
    case 'ES256':
      // JWS carries ECDSA signatures as raw r||s (RFC 7518 §3.4), not DER.
      if (signature.length !== ES256_SIGNATURE_LENGTH) return false
      return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    case 'RS256':
      return verify('sha256', data, key, signature)
    case 'HS256': {
      if (signature.length !== HS256_SIGNATURE_LENGTH) return false
      const expected = createHmac('sha256', key).update(data).digest()
      return timingSafeEqual(expected, signature)
    }
  }
}
