import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeSecretKey } from '../config.js'

export type KeyPurpose =
  | 'signing-key-encryption'
  | 'refresh-token-mac'
  | 'client-secret-mac'
  | 'api-key-mac'
  | 'browser-cookie-mac'

/**
 * The deployment's master secret (TESSERA_SECRET_KEY). Each use gets its own key derived with
 * HKDF (RFC 5869), so a key recovered from one use says nothing about the others.
 */
export class SecretKey {
  readonly #master: Buffer
  readonly #derived = new Map<KeyPurpose, Buffer>()

  constructor(master: Buffer) {
    if (master.length !== 32) throw new TypeError('the secret key must be 32 bytes')
    this.#master = master
  }

  derive(purpose: KeyPurpose): Buffer {
    let key = this.#derived.get(purpose)
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), `tessera ${purpose} v1`, 32))
      this.#derived.set(purpose, key)
    }
    return key
  }

  /** AES-256-GCM; the result is `v1.<iv>.<ciphertext>.<tag>` in base64url. */
  encrypt(plaintext: Buffer): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.derive('signing-key-encryption'), iv)
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return ['v1', iv, body, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.')
  }

  decrypt(sealed: string): Buffer {
    const [version, iv, body, tag] = sealed.split('.')
    if (version !== 'v1' || !iv || !body || !tag) throw new Error('unrecognised encrypted key format')
    const decipher = createDecipheriv(
      'aes-256-gcm',
      this.derive('signing-key-encryption'),
      Buffer.from(iv, 'base64url'),
    )
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()])
    } catch {
      throw new Error(
        'a signing key cannot be decrypted: TESSERA_SECRET_KEY differs from the one that encrypted it',
      )
    }
  }
}

/**
 * Returns the configured secret key, or the one kept in the data directory, generating it on
 * first start. `generated` tells the caller to warn: every instance must share this key.
 */
export function loadSecretKey(
  configured: string | undefined,
  dataDir: string,
): { key: SecretKey; generated: boolean; path?: string } {
  if (configured !== undefined) return { key: new SecretKey(decodeSecretKey(configured)), generated: false }
  const path = join(dataDir, 'secret.key')
  if (existsSync(path))
    return { key: new SecretKey(decodeSecretKey(readFileSync(path, 'utf8'))), generated: false, path }
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
  return { key: new SecretKey(decodeSecretKey(readFileSync(path, 'utf8'))), generated: true, path }
}
