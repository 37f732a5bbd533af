import { createHmac, timingSafeEqual } from 'node:crypto'

const PREFIX = 'hmac-sha256$'

/**
 * Client secrets and API keys are stored as keyed MACs: a database dump alone cannot be used,
 * and unlike a password hash the check costs microseconds, which the client_credentials grant
 * and API-key checks need. (Passwords, chosen by people, get argon2id instead.)
 */
export class SecretMac {
  constructor(private readonly key: Buffer) {}

  digest(secret: string): string {
    return PREFIX + createHmac('sha256', this.key).update(secret).digest('base64url')
  }

  /** Constant-time check of a presented secret against a stored digest. */
  matches(secret: string, stored: string): boolean {
    const a = Buffer.from(this.digest(secret))
    const b = Buffer.from(stored)
    return a.length === b.length && timingSafeEqual(a, b)
  }
}
