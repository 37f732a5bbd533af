import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { SigningAlg } from '../config.js'
import type { SigningKeyRow, Store } from '../store/store.js'
import type { SecretKey } from './secret-key.js'

/** One signing key, loaded: its JWS header is encoded once, at load, never per token. */
export interface Signer {
  readonly kid: string
  readonly alg: SigningAlg
  readonly encodedHeader: string
  sign(data: string): Buffer
}

export interface PublicKeyEntry {
  kid: string
  alg: SigningAlg
  key: KeyObject | Buffer
}

function generate(alg: SigningAlg): { privateKey: Buffer; publicJwk: JWK | null } {
  switch (alg) {
    case 'EdDSA': {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519')
      return {
        privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }),
        publicJwk: publicKey.export({ format: 'jwk' }) as JWK,
      }
    }
    case 'ES256': {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      return {
        privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }),
        publicJwk: publicKey.export({ format: 'jwk' }) as JWK,
      }
    }
    case 'RS256': {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
      return {
        privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }),
        publicJwk: publicKey.export({ format: 'jwk' }) as JWK,
      }
    }
    case 'HS256':
      return { privateKey: randomBytes(32), publicJwk: null }
  }
}

/** Creates a new signing key row, its private part sealed with the deployment's secret key. */
export async function createSigningKey(
  alg: SigningAlg,
  secret: SecretKey,
  now: number,
): Promise<SigningKeyRow> {
  const { privateKey, publicJwk } = generate(alg)
  const kid = publicJwk ? await calculateJwkThumbprint(publicJwk) : randomBytes(16).toString('base64url')
  const jwk = publicJwk ? { ...publicJwk, kid, alg, use: 'sig' } : { kid, alg }
  return {
    kid,
    alg,
    publicJwk: JSON.stringify(jwk),
    privateKey: secret.encrypt(privateKey),
    createdAt: now,
    retiredAt: null,
    publishUntil: null,
    activatesAt: null,
  }
}

// node:crypto signs with a prepared KeyObject in about half the time jose's sign path takes
// (measured in bench/), and the access-token signature sits on every token response.
function loadSigner(row: SigningKeyRow, secret: SecretKey): Signer {
  const alg = row.alg as SigningAlg
  const raw = secret.decrypt(row.privateKey)
  const encodedHeader = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid: row.kid })).toString(
    'base64url',
  )
  if (alg === 'HS256') {
    return {
      kid: row.kid,
      alg,
      encodedHeader,
      sign: (data) => createHmac('sha256', raw).update(data).digest(),
    }
  }
  const key = createPrivateKey({ key: raw, format: 'der', type: 'pkcs8' })
  const signWith =
    alg === 'EdDSA'
      ? (data: string) => sign(null, Buffer.from(data), key)
      : alg === 'ES256'
        ? (data: string) => sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' })
        : (data: string) => sign('sha256', Buffer.from(data), key)
  return { kid: row.kid, alg, encodedHeader, sign: signWith }
}

function loadPublicKey(row: SigningKeyRow, secret: SecretKey): PublicKeyEntry {
  const alg = row.alg as SigningAlg
  if (alg === 'HS256') return { kid: row.kid, alg, key: secret.decrypt(row.privateKey) }
  return { kid: row.kid, alg, key: createPublicKey({ key: JSON.parse(row.publicJwk) as JWK, format: 'jwk' }) }
}

/**
 * The signing keys of the deployment, read from the store. The newest unretired key signs;
 * retired keys stay published (and accepted) until the last token they signed has expired.
 * Other processes rotate keys through the store, so the keystore reloads when told to
 * (the change feed) and on a short poll.
 */
export class Keystore {
  #signer: Signer | undefined
  #publicKeys = new Map<string, PublicKeyEntry>()
  #jwks = '{"keys":[]}'
  #fingerprint = ''

  constructor(
    private readonly store: Store,
    private readonly secret: SecretKey,
    private readonly alg: SigningAlg,
    private readonly accessTokenTtl: number,
    private readonly now: () => number,
  ) {}

  get signer(): Signer {
    if (!this.#signer) throw new Error('the keystore has not been loaded')
    return this.#signer
  }

  get jwksJson(): string {
    return this.#jwks
  }

  publicKey(kid: string): PublicKeyEntry | undefined {
    return this.#publicKeys.get(kid)
  }

  /** Loads keys, creating the first one (or one of the configured algorithm) when missing. */
  async init(): Promise<void> {
    await this.reload()
    if (!this.#signer || this.#signer.alg !== this.alg) await this.rotate()
  }

  /**
   * Re-reads the published keys; cheap when nothing changed. The signer is the newest key whose
   * activation time has come, so a key rotated with a delay starts signing on every instance
   * within one poll of that moment. Returns true when anything changed.
   */
  async reload(): Promise<boolean> {
    const now = this.now()
    const rows = await this.store.listPublishedSigningKeys(now)
    const active = rows
      .filter((r) => (r.activatesAt ?? r.createdAt) <= now && (r.retiredAt === null || r.retiredAt > now))
      .sort((a, b) => (b.activatesAt ?? b.createdAt) - (a.activatesAt ?? a.createdAt))[0]
    const fingerprint = `${active?.kid}|${rows.map((r) => `${r.kid}:${r.retiredAt ?? ''}`).join(',')}`
    if (fingerprint === this.#fingerprint) return false
    const publicKeys = new Map<string, PublicKeyEntry>()
    for (const row of rows) publicKeys.set(row.kid, loadPublicKey(row, this.secret))
    this.#signer = active ? loadSigner(active, this.secret) : undefined
    this.#publicKeys = publicKeys
    this.#jwks = JSON.stringify({
      keys: rows.filter((r) => r.alg !== 'HS256').map((r) => JSON.parse(r.publicJwk) as JWK),
    })
    this.#fingerprint = fingerprint
    return true
  }

  /**
   * Adds a new signing key. It is published in the JWKS at once and starts signing after
   * `activateInSeconds`, so verifiers that cached the JWKS meanwhile learn it before they meet
   * a token it signed. The previous key signs until then and stays published one access-token
   * lifetime (plus a minute of clock skew) longer, so tokens it signed verify until they expire.
   */
  async rotate(activateInSeconds = 0): Promise<SigningKeyRow> {
    const now = this.now()
    const activatesAt = now + activateInSeconds * 1000
    const row = {
      ...(await createSigningKey(this.alg, this.secret, now)),
      activatesAt: activateInSeconds > 0 ? activatesAt : null,
    }
    await this.store.insertSigningKey(row, activatesAt, activatesAt + (this.accessTokenTtl + 60) * 1000)
    await this.reload()
    return row
  }
}
