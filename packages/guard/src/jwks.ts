import { createPublicKey, createSecretKey, type JsonWebKey, KeyObject } from 'node:crypto'
import { type Algorithm, algorithmsForKey, isAlgorithm } from './algorithms.js'
import { TemporarilyUnavailableError } from './errors.js'
import { type FetchLike, fetchJson } from './fetch-json.js'

/** A key the verifier may use, with the algorithms its own type allows. */
export interface VerificationKey {
  readonly kid: string | undefined
  readonly key: KeyObject
  readonly algorithms: ReadonlySet<Algorithm>
}

/** A static key: a public JWK, a public or secret `KeyObject`, or a `KeyObject` with its `kid` and `alg`. */
export type StaticKey =
  | JsonWebKey
  | KeyObject
  | { readonly kid?: string; readonly alg?: Algorithm; readonly key: KeyObject }

export interface KeySource {
  lookup(
    kid: string | undefined,
    alg: Algorithm,
  ): VerificationKey | undefined | Promise<VerificationKey | undefined>
}

const MAX_KEYS = 100
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const

function toVerificationKey(
  key: KeyObject,
  kid: unknown,
  alg: unknown,
  allowed: ReadonlySet<Algorithm>,
): VerificationKey | undefined {
  let algorithms = algorithmsForKey(key).filter((candidate) => allowed.has(candidate))
  if (alg !== undefined) algorithms = algorithms.filter((candidate) => candidate === alg)
  if (algorithms.length === 0) return undefined
  return { kid: typeof kid === 'string' ? kid : undefined, key, algorithms: new Set(algorithms) }
}

function keyObjectFromJwk(jwk: JsonWebKey, allowSecret: boolean): KeyObject | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return undefined
  if (jwk.kty === 'oct') {
    if (!allowSecret || typeof jwk.k !== 'string') return undefined
    return createSecretKey(Buffer.from(jwk.k, 'base64url'))
  }
  // Private members are dropped: a verifier has no business holding a signing key.
  const publicJwk: JsonWebKey = {}
  for (const member of PUBLIC_MEMBERS) if (jwk[member] !== undefined) publicJwk[member] = jwk[member]
  try {
    return createPublicKey({ key: publicJwk, format: 'jwk' })
  } catch {
    return undefined
  }
}

/** Imports a JWKS document fetched from the network; unusable keys are skipped, secrets always. */
export function importJwks(
  document: Record<string, unknown>,
  allowed: ReadonlySet<Algorithm>,
): VerificationKey[] {
  if (!Array.isArray(document.keys)) throw new Error('JWKS has no keys array')
  const imported: VerificationKey[] = []
  for (const jwk of document.keys.slice(0, MAX_KEYS) as unknown[]) {
    if (typeof jwk !== 'object' || jwk === null) continue
    const candidate = jwk as JsonWebKey
    const key = keyObjectFromJwk(candidate, false)
    const entry = key && toVerificationKey(key, candidate.kid, candidate.alg, allowed)
    if (entry) imported.push(entry)
  }
  return imported
}

/** Imports the `keys` option; mistakes are programming errors, so they throw `TypeError`. */
export function importStaticKeys(
  keys: readonly StaticKey[],
  allowed: ReadonlySet<Algorithm>,
): VerificationKey[] {
  return keys.map((entry, index) => {
    let key: KeyObject | undefined
    let kid: unknown
    let alg: unknown
    if (entry instanceof KeyObject) {
      key = entry
    } else if ('key' in entry && entry.key instanceof KeyObject) {
      key = entry.key
      kid = entry.kid
      alg = entry.alg
    } else {
      const jwk = entry as JsonWebKey
      if (jwk.d !== undefined) throw new TypeError(`keys[${index}] is a private JWK; pass the public key`)
      key = keyObjectFromJwk(jwk, true)
      kid = jwk.kid
      alg = jwk.alg
    }
    if (!key) throw new TypeError(`keys[${index}] is not a usable verification key`)
    if (key.type === 'private') throw new TypeError(`keys[${index}] is a private key; pass the public key`)
    if (alg !== undefined && !isAlgorithm(alg))
      throw new TypeError(`keys[${index}] has unsupported alg ${String(alg)}`)
    if (key.type === 'secret' && !allowed.has('HS256')) {
      throw new TypeError(`keys[${index}] is a secret key but HS256 is not in algorithms`)
    }
    const verificationKey = toVerificationKey(key, kid, alg, allowed)
    if (!verificationKey) {
      throw new TypeError(`keys[${index}] fits none of the allowed algorithms (${[...allowed].join(', ')})`)
    }
    return verificationKey
  })
}

/** Keys indexed by `kid`; a key without a `kid` only matches a token without one. */
export class KeyStore implements KeySource {
  readonly #byKid = new Map<string | undefined, VerificationKey[]>()

  constructor(keys: readonly VerificationKey[]) {
    for (const key of keys) {
      const bucket = this.#byKid.get(key.kid)
      if (bucket) bucket.push(key)
      else this.#byKid.set(key.kid, [key])
    }
  }

  lookup(kid: string | undefined, alg: Algorithm): VerificationKey | undefined {
    const bucket = this.#byKid.get(kid)
    if (!bucket) return undefined
    for (const key of bucket) if (key.algorithms.has(alg)) return key
    return undefined
  }
}

export interface RemoteKeySetOptions {
  readonly resolveUri: () => Promise<string>
  readonly fetch: FetchLike
  readonly timeout: number
  /** Milliseconds between two fetches caused by unknown `kid`s. */
  readonly cooldown: number
  /** Milliseconds after which known keys are refreshed in the background. */
  readonly maxAge: number
  readonly now: () => number
  readonly algorithms: ReadonlySet<Algorithm>
  readonly onError: (error: unknown) => void
}

/**
 * A JWKS fetched over HTTP. An unknown `kid` triggers at most one fetch per cool-down, so a
 * stream of tokens with random `kid`s cannot turn the guard into a traffic amplifier.
 */
export class RemoteKeySet implements KeySource {
  readonly #options: RemoteKeySetOptions
  #store: KeyStore | undefined
  #fetchedAt = Number.NEGATIVE_INFINITY
  #attemptedAt = Number.NEGATIVE_INFINITY
  #inflight: Promise<void> | undefined

  constructor(options: RemoteKeySetOptions) {
    this.#options = options
  }

  lookup(
    kid: string | undefined,
    alg: Algorithm,
  ): VerificationKey | undefined | Promise<VerificationKey | undefined> {
    const now = this.#options.now()
    const coolingDown = now - this.#attemptedAt < this.#options.cooldown
    const store = this.#store
    if (store) {
      const key = store.lookup(kid, alg)
      if (key) {
        if (now - this.#fetchedAt > this.#options.maxAge && !coolingDown) {
          this.#refresh().catch(this.#options.onError)
        }
        return key
      }
      if (coolingDown) return undefined
    } else if (coolingDown && !this.#inflight) {
      return Promise.reject(new TemporarilyUnavailableError('jwks_unavailable'))
    }
    return this.#refresh().then(
      () => this.#store?.lookup(kid, alg),
      (error: unknown) => {
        this.#options.onError(error)
        throw new TemporarilyUnavailableError('jwks_unavailable', { cause: error })
      },
    )
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  async #load(): Promise<void> {
    this.#attemptedAt = this.#options.now()
    const uri = await this.#options.resolveUri()
    const document = await fetchJson(uri, { fetch: this.#options.fetch, timeout: this.#options.timeout })
    this.#store = new KeyStore(importJwks(document, this.#options.algorithms))
    this.#fetchedAt = this.#options.now()
  }
}
