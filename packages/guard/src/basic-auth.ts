import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'
import { InvalidCredentialsError } from './errors.js'
import type { AuthInfo } from './roles.js'
import { TokenCache } from './token-cache.js'

/** Stored hashes by user name, or a lookup returning the stored hash. */
export type BasicCredentials =
  | Readonly<Record<string, string>>
  | ((username: string) => string | undefined | Promise<string | undefined>)

/** Options of {@link createBasicAuth}. */
export interface BasicAuthOptions {
  /** Realm named in the `WWW-Authenticate: Basic` challenge; default `'api'`. */
  readonly realm?: string
  /** Hashes made by {@link hashBasicCredential}, never plain passwords. */
  readonly credentials: BasicCredentials
  /** Seconds a successful check is remembered (by a SHA-256 of the header); default 60, 0 turns it off. */
  readonly cacheTtl?: number
  readonly now?: () => number
}

/** A configured HTTP Basic checker; pass it to an adapter's `requireBasic`. */
export interface BasicAuth {
  readonly realm: string
  /** Checks an `Authorization` header; throws {@link InvalidCredentialsError}. */
  verify(authorization: string | undefined): Promise<AuthInfo>
}

const SCRYPT = { N: 16_384, r: 8, p: 1 } as const
const KEY_LENGTH = 32
const SALT_LENGTH = 16
const MAX_N = 1 << 20
// RFC 7617 §2: the user-id cannot contain a colon and neither part may contain control characters.
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

function derive(
  secret: string,
  salt: Buffer,
  params: ScryptOptions & { N: number; r: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const maxmem = 256 * params.N * params.r
    scrypt(secret.normalize('NFC'), salt, KEY_LENGTH, { ...params, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}

/**
 * Hashes a Basic-auth secret with scrypt and a random salt into the string you store.
 *
 * @example
 * ```ts
 * const stored = await hashBasicCredential('s3cret') // 'scrypt$16384$8$1$<salt>$<hash>'
 * const basic = createBasicAuth({ credentials: { billing: stored } })
 * ```
 */
export async function hashBasicCredential(secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret.length === 0)
    throw new TypeError('secret must be a non-empty string')
  const salt = randomBytes(SALT_LENGTH)
  const hash = await derive(secret, salt, SCRYPT)
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$')
}

function parseStored(stored: string): { N: number; r: number; p: number; salt: Buffer; hash: Buffer } {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$')
  const N = Number(n)
  const params = { N, r: Number(r), p: Number(p) }
  const valid =
    scheme === 'scrypt' &&
    rest.length === 0 &&
    Number.isInteger(N) &&
    N > 1 &&
    N <= MAX_N &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(params.r) &&
    params.r >= 1 &&
    params.r <= 32 &&
    Number.isInteger(params.p) &&
    params.p >= 1 &&
    params.p <= 16 &&
    typeof salt === 'string' &&
    typeof hash === 'string'
  if (!valid) throw new TypeError('stored credential is not a hashBasicCredential() string')
  return { ...params, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') }
}

async function matches(secret: string, stored: string): Promise<boolean> {
  const { salt, hash, ...params } = parseStored(stored)
  const candidate = await derive(secret, salt, params)
  return candidate.length === hash.length && timingSafeEqual(candidate, hash)
}

/**
 * Parses an RFC 7617 `Authorization: Basic` header; `undefined` when another scheme is used.
 *
 * @example
 * ```ts
 * parseBasicAuthorization('Basic dXNlcjpwYTpzcw==') // { username: 'user', password: 'pa:ss' }
 * ```
 */
export function parseBasicAuthorization(
  authorization: string | undefined,
): { username: string; password: string } | undefined {
  if (authorization === undefined) return undefined
  const space = authorization.indexOf(' ')
  const scheme = space === -1 ? authorization : authorization.slice(0, space)
  if (scheme.toLowerCase() !== 'basic') return undefined
  const encoded = authorization.slice(space + 1).trim()
  if (space === -1 || encoded.length % 4 !== 0 || !BASE64.test(encoded))
    throw new InvalidCredentialsError('malformed')
  const decoded = Buffer.from(encoded, 'base64')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(decoded)
  } catch {
    throw new InvalidCredentialsError('malformed')
  }
  const colon = text.indexOf(':')
  if (colon === -1 || hasControlCharacter(text)) throw new InvalidCredentialsError('malformed')
  return { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

/**
 * Creates an HTTP Basic checker for service-to-service routes, over scrypt-hashed secrets.
 *
 * @example
 * ```ts
 * const basic = createBasicAuth({ realm: 'internal', credentials: { billing: await hashBasicCredential('s3cret') } })
 * const auth = await basic.verify(req.headers.authorization) // throws InvalidCredentialsError
 * ```
 */
export function createBasicAuth(options: BasicAuthOptions): BasicAuth {
  const { credentials } = options
  const realm = options.realm ?? 'api'
  const now = options.now ?? Date.now
  const cacheTtl = (options.cacheTtl ?? 60) * 1000
  if (typeof credentials !== 'function' && (typeof credentials !== 'object' || credentials === null)) {
    throw new TypeError('credentials must be a map of user → hash or a lookup function')
  }
  if (typeof credentials === 'object') for (const stored of Object.values(credentials)) parseStored(stored)
  if (typeof realm !== 'string' || hasControlCharacter(realm))
    throw new TypeError('realm must be a printable string')
  if (!Number.isFinite(cacheTtl) || cacheTtl < 0)
    throw new TypeError('cacheTtl must be a non-negative number')
  const cache = new TokenCache<AuthInfo>(cacheTtl > 0 ? 1000 : 0)
  let decoy: Promise<string> | undefined

  const lookup = async (username: string): Promise<string | undefined> =>
    typeof credentials === 'function'
      ? credentials(username)
      : Object.hasOwn(credentials, username)
        ? credentials[username]
        : undefined

  return {
    realm,
    async verify(authorization) {
      const parsed = parseBasicAuthorization(authorization)
      if (!parsed) throw new InvalidCredentialsError('missing_credentials')
      const digest = createHash('sha256')
        .update(authorization as string)
        .digest('base64url')
      const cached = cache.get(digest, now())
      if (cached) return cached
      const stored = await lookup(parsed.username)
      if (stored === undefined) {
        // Hash anyway so an unknown user costs as much time as a wrong password (no user enumeration).
        decoy ??= hashBasicCredential(randomBytes(16).toString('hex'))
        await matches(parsed.password, await decoy)
        throw new InvalidCredentialsError('unknown_user')
      }
      if (!(await matches(parsed.password, stored))) throw new InvalidCredentialsError('wrong_password')
      const auth: AuthInfo = {
        type: 'basic',
        sub: parsed.username,
        clientId: parsed.username,
        scopes: [],
        roles: [],
        permissions: [],
        claims: Object.freeze({ username: parsed.username }),
      }
      cache.set(digest, auth, now() + cacheTtl)
      return auth
    },
  }
}
