import { type Algorithm, DEFAULT_ALGORITHMS, isAlgorithm, verifySignature } from './algorithms.js'
import { type AccessTokenClaims, validateClaims } from './claims.js'
import { type CompactJws, decodeJsonSegment, parseCompactJws } from './compact-jws.js'
import { InvalidTokenError } from './errors.js'
import type { FetchLike } from './fetch-json.js'
import { type IntrospectionOptions, type IntrospectionResponse, Introspector } from './introspection.js'
import {
  importStaticKeys,
  type KeySource,
  KeyStore,
  RemoteKeySet,
  type StaticKey,
  type VerificationKey,
} from './jwks.js'
import { createMetadataSource } from './metadata.js'
import type { RevocationTarget } from './revocation-list.js'
import { RevocationList } from './revocation-list.js'
import { type PermissionMap, permissionsFor } from './roles.js'
import { TokenCache } from './token-cache.js'

/** A pino-shaped logger; Fastify's `app.log` fits. */
export interface GuardLogger {
  warn(details: Record<string, unknown>, message: string): void
}

/** Options of {@link createVerifier}. Durations are in seconds unless named otherwise. */
export interface VerifierOptions {
  /** The authorization server's issuer identifier; tokens must carry exactly this `iss`. */
  readonly issuer: string
  /** The audience(s) this API answers to; a token's `aud` must contain one of them. */
  readonly audience: string | readonly string[]
  /** JWKS location; default: `jwks_uri` from the issuer's RFC 8414 metadata. */
  readonly jwksUri?: string
  /** Static keys instead of a fetched JWKS; the only way to use an HS256 secret. */
  readonly keys?: readonly StaticKey[]
  /** Accepted JWS algorithms; default `['EdDSA', 'ES256', 'RS256']`. `none` is never accepted. */
  readonly algorithms?: readonly Algorithm[]
  /** Allowed clock skew for `exp`, `nbf` and `iat`; default 5. */
  readonly clockTolerance?: number
  /** The current time in milliseconds; default `Date.now`. */
  readonly now?: () => number
  /** Longest token accepted, in characters; longer ones are refused before any decoding. Default 8192. */
  readonly maxTokenLength?: number
  /** Verified tokens remembered until their `exp`; default 1000, 0 turns the cache off. */
  readonly cacheSize?: number
  /** Least time between two JWKS fetches caused by an unknown `kid`; default 30. */
  readonly jwksCooldown?: number
  /** Age after which the JWKS is refreshed in the background; default 600. */
  readonly jwksMaxAge?: number
  /** Network timeout for metadata, JWKS and introspection, in milliseconds; default 5000. */
  readonly timeout?: number
  /** Introspection client credentials; needed for API keys and for `mode: 'introspection'`. */
  readonly introspection?: IntrospectionOptions
  /** `'introspection'` also asks the server about every access token (instant revocation); default `'local'`. */
  readonly mode?: 'local' | 'introspection'
  /** Role → permissions map used by `permissions` requirements. */
  readonly permissions?: PermissionMap
  /** How long `revoke()` remembers an id when no `exp` is given; default 86400. */
  readonly revocationTtl?: number
  readonly fetch?: FetchLike
  /** Receives start-up warnings and network failures; default: `process.emitWarning`. */
  readonly logger?: GuardLogger
}

/** A verified API key, as the introspection endpoint described it. */
export type ApiKeyInfo = IntrospectionResponse & { readonly active: true }

/** Verifies Tessera access tokens and API keys; see {@link createVerifier}. */
export interface Verifier {
  readonly issuer: string
  readonly audience: readonly string[]
  /** Whether introspection credentials were configured (API keys need them). */
  readonly canIntrospect: boolean
  readonly permissions: PermissionMap | undefined
  verify(token: string): Promise<AccessTokenClaims>
  verifyApiKey(key: string): Promise<ApiKeyInfo>
  revoke(target: RevocationTarget): void
  permissionsFor(roles: readonly string[]): string[]
}

const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt'])
// RFC 9068 tokens are verified with keys from the issuer's JWKS only; a token naming its own
// key (jwk), key location (jku, x5u) or certificate chain (x5c) would let the forger pick it.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'] as const
const MAX_KID_LENGTH = 256
const API_KEY = /^tsk_[A-Za-z0-9_-]{1,500}$/

const defaultLogger: GuardLogger = {
  warn(details, message) {
    process.emitWarning(`${message} ${JSON.stringify(details)}`, 'TesseraGuardWarning')
  },
}

function nonNegative(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative number`)
  }
  return value
}

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || url.hostname.startsWith('127.')
}

function parseUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a URL string`)
  try {
    return new URL(value)
  } catch {
    throw new TypeError(`${name} must be an absolute URL`)
  }
}

function readAlgorithms(value: readonly unknown[] | undefined): ReadonlySet<Algorithm> {
  if (value === undefined) return new Set(DEFAULT_ALGORITHMS)
  if (!Array.isArray(value) || value.length === 0) throw new TypeError('algorithms must be a non-empty array')
  for (const alg of value) {
    if (!isAlgorithm(alg)) throw new TypeError(`algorithms: ${String(alg)} is not supported`)
  }
  return new Set(value as Algorithm[])
}

function readAudience(value: unknown): readonly string[] {
  const list = typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item.length > 0)
  ) {
    throw new TypeError('audience must be a non-empty string or array of strings (RFC 9068 §4)')
  }
  return Object.freeze([...list])
}

/**
 * Creates a verifier for access tokens issued by a Tessera server (RFC 9068 JWTs).
 *
 * Keys come from the issuer's metadata and JWKS unless `jwksUri` or `keys` is given. Verified
 * tokens are cached until their `exp`; `revoke()` drops them at once.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' })
 * const claims = await verifier.verify(token) // throws GuardError
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createVerifier needs an options object')
  const issuerUrl = parseUrl(options.issuer, 'issuer')
  const issuer = options.issuer
  const audience = readAudience(options.audience)
  const algorithms = readAlgorithms(options.algorithms)
  const clockTolerance = nonNegative(options.clockTolerance, 'clockTolerance', 5)
  const maxTokenLength = nonNegative(options.maxTokenLength, 'maxTokenLength', 8192)
  const cacheSize = nonNegative(options.cacheSize, 'cacheSize', 1000)
  const jwksCooldown = nonNegative(options.jwksCooldown, 'jwksCooldown', 30) * 1000
  const jwksMaxAge = nonNegative(options.jwksMaxAge, 'jwksMaxAge', 600) * 1000
  const timeout = nonNegative(options.timeout, 'timeout', 5000)
  const revocationTtl = nonNegative(options.revocationTtl, 'revocationTtl', 86_400) * 1000
  const now = options.now ?? Date.now
  const fetch = options.fetch ?? globalThis.fetch
  const logger = options.logger ?? defaultLogger
  const mode = options.mode ?? 'local'
  if (typeof now !== 'function') throw new TypeError('now must be a function returning milliseconds')
  if (mode !== 'local' && mode !== 'introspection')
    throw new TypeError("mode must be 'local' or 'introspection'")
  if (options.keys !== undefined && options.jwksUri !== undefined)
    throw new TypeError('give either keys or jwksUri')
  if (options.jwksUri !== undefined) parseUrl(options.jwksUri, 'jwksUri')
  if (algorithms.has('HS256') && options.keys === undefined) {
    throw new TypeError('HS256 needs the shared secret in keys; a JWKS never publishes it')
  }
  if (mode === 'introspection' && !options.introspection) {
    throw new TypeError("mode 'introspection' needs introspection credentials")
  }

  if (algorithms.has('HS256')) {
    logger.warn(
      { algorithms: [...algorithms] },
      'HS256 is enabled: every holder of the secret can mint tokens',
    )
  }
  if (issuerUrl.protocol !== 'https:' && !isLoopback(issuerUrl)) {
    logger.warn({ issuer }, 'the issuer is not served over TLS; keys and introspection can be tampered with')
  }
  if (clockTolerance > 60)
    logger.warn({ clockTolerance }, 'clockTolerance over 60 seconds keeps expired tokens alive')

  const onError = (error: unknown) => {
    logger.warn(
      { error: error instanceof Error ? error.message : String(error) },
      'authorization server unreachable',
    )
  }
  const metadata = createMetadataSource(issuer, fetch, timeout)
  const resolveMetadataField = (field: 'jwks_uri' | 'introspection_endpoint') => async () => {
    const document = await metadata.get()
    const value = document[field]
    if (value === undefined) throw new Error(`metadata has no ${field}`)
    return value
  }

  const keySource: KeySource = options.keys
    ? new KeyStore(importStaticKeys(options.keys, algorithms))
    : new RemoteKeySet({
        resolveUri: options.jwksUri
          ? async () => options.jwksUri as string
          : resolveMetadataField('jwks_uri'),
        fetch,
        timeout,
        cooldown: jwksCooldown,
        maxAge: jwksMaxAge,
        now,
        algorithms,
        onError,
      })

  const introspectionOptions = options.introspection
  let introspector: Introspector | undefined
  if (introspectionOptions) {
    const { clientId, clientSecret, endpoint } = introspectionOptions
    if (typeof clientId !== 'string' || typeof clientSecret !== 'string') {
      throw new TypeError('introspection needs clientId and clientSecret strings')
    }
    if (endpoint !== undefined) parseUrl(endpoint, 'introspection.endpoint')
    nonNegative(introspectionOptions.cacheTtl, 'introspection.cacheTtl', 0)
    nonNegative(introspectionOptions.apiKeyCacheTtl, 'introspection.apiKeyCacheTtl', 0)
    introspector = new Introspector({
      clientId,
      clientSecret,
      resolveEndpoint: endpoint ? async () => endpoint : resolveMetadataField('introspection_endpoint'),
      fetch,
      timeout,
      now,
      cacheSize: Math.max(cacheSize, 100),
      onError,
    })
  }
  const tokenIntrospectionTtl = introspectionOptions?.cacheTtl ?? 5
  const apiKeyIntrospectionTtl = introspectionOptions?.apiKeyCacheTtl ?? 30

  const rules = { issuer, audiences: new Set(audience), clockTolerance }
  const cache = new TokenCache<AccessTokenClaims>(cacheSize)
  const revocations = new RevocationList()

  // The hot path is hand-written on node:crypto rather than jose's jwtVerify: with cached
  // KeyObjects it does no per-token key import, no async crypto hop and no generic JOSE
  // processing, which measurably costs per token at tens of thousands of tokens a second.
  // Synchronous unless the key must be fetched: an await per token costs a microtask apiece.
  function verifyJws(token: string, at: number): AccessTokenClaims | Promise<AccessTokenClaims> {
    const jws = parseCompactJws(token)
    const { header } = jws
    for (const name of FORBIDDEN_HEADERS) {
      if (header[name] !== undefined) throw new InvalidTokenError('forbidden_header')
    }
    const alg = header.alg
    if (!isAlgorithm(alg) || !algorithms.has(alg)) throw new InvalidTokenError('unsupported_alg')
    // RFC 9068 §4: only at+jwt, so ID tokens and other JWTs signed by the same keys are refused.
    if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) {
      throw new InvalidTokenError('wrong_type')
    }
    const kid = header.kid
    if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) {
      throw new InvalidTokenError('malformed')
    }
    const found = keySource.lookup(kid, alg)
    return found instanceof Promise
      ? found.then((key) => checkSignedToken(jws, alg, key, at))
      : checkSignedToken(jws, alg, found, at)
  }

  function checkSignedToken(
    jws: CompactJws,
    alg: Algorithm,
    key: VerificationKey | undefined,
    at: number,
  ): AccessTokenClaims {
    if (!key) throw new InvalidTokenError('unknown_kid')
    if (!verifySignature(alg, key.key, jws.signingInput, jws.signature))
      throw new InvalidTokenError('bad_signature')
    return validateClaims(decodeJsonSegment(jws.payloadSegment), rules, at)
  }

  async function introspectAccessToken(token: string, claims: AccessTokenClaims): Promise<void> {
    const answer = await (introspector as Introspector).introspect(
      token,
      tokenIntrospectionTtl,
      'access_token',
    )
    if (!answer.active || (answer.jti !== undefined && answer.jti !== claims.jti)) {
      throw new InvalidTokenError('inactive')
    }
  }

  return {
    issuer,
    audience,
    canIntrospect: introspector !== undefined,
    permissions: options.permissions,

    async verify(token) {
      if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError('malformed')
      // Checked before any decoding or crypto so oversized input costs nothing.
      if (token.length > maxTokenLength) throw new InvalidTokenError('too_large')
      const at = now()
      let claims = cache.get(token, at)
      if (!claims) {
        const verified = verifyJws(token, at)
        claims = verified instanceof Promise ? await verified : verified
        cache.set(token, claims, claims.exp * 1000)
      }
      if (revocations.size > 0 && revocations.has(claims.jti, claims.sid, at))
        throw new InvalidTokenError('revoked')
      if (mode === 'introspection') await introspectAccessToken(token, claims)
      return claims
    },

    async verifyApiKey(key) {
      if (!introspector) throw new TypeError('API keys need the introspection option of createVerifier')
      if (typeof key !== 'string' || !API_KEY.test(key)) throw new InvalidTokenError('malformed')
      const answer = await introspector.introspect(key, apiKeyIntrospectionTtl)
      if (!answer.active) throw new InvalidTokenError('inactive')
      if (answer.token_type !== 'api_key') throw new InvalidTokenError('wrong_type')
      if (answer.exp !== undefined && now() >= answer.exp * 1000) throw new InvalidTokenError('expired')
      return answer as ApiKeyInfo
    },

    revoke(target) {
      if (
        typeof target !== 'object' ||
        target === null ||
        (target.jti === undefined && target.sid === undefined)
      ) {
        throw new TypeError('revoke needs a jti or a sid')
      }
      const at = now()
      const until = target.exp === undefined ? at + revocationTtl : target.exp * 1000
      revocations.add(target, until, at)
      const matches = (value: { jti?: unknown; sid?: unknown }) =>
        (target.jti !== undefined && value.jti === target.jti) ||
        (target.sid !== undefined && value.sid === target.sid)
      cache.deleteWhere(matches)
      introspector?.forget(matches)
    },

    permissionsFor(roles) {
      return permissionsFor(roles, options.permissions)
    },
  }
}
