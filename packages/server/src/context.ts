import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import { Audit } from './audit.js'
import { ClientDirectory } from './clients.js'
import type { Config } from './config.js'
import { Metrics } from './metrics.js'
import { ChangeFeed } from './scale/change-feed.js'
import { type LimiterFactory, LoginLimiter } from './security/login-limiter.js'
import { PasswordHasher } from './security/password-hash.js'
import { SecretMac } from './security/secret-mac.js'
import type { Store } from './store/store.js'
import { AccessTokenIssuer } from './tokens/access-token.js'
import { Keystore } from './tokens/keys.js'
import { RefreshTokenCodec } from './tokens/refresh-token.js'
import { RevocationCache } from './tokens/revocation-cache.js'
import type { SecretKey } from './tokens/secret-key.js'
import { AccessTokenVerifier } from './tokens/verify-access-token.js'

/** Everything a request handler needs, built once per server. */
export interface ServerContext {
  readonly config: Config
  readonly store: Store
  readonly log: FastifyBaseLogger
  readonly now: () => number
  readonly metrics: Metrics
  readonly clients: ClientDirectory
  readonly audit: Audit
  readonly keys: Keystore
  readonly accessTokens: AccessTokenIssuer
  readonly accessTokenVerifier: AccessTokenVerifier
  readonly refreshTokens: RefreshTokenCodec
  readonly clientSecrets: SecretMac
  readonly apiKeys: SecretMac
  readonly passwords: PasswordHasher
  readonly loginLimiter: LoginLimiter
  readonly feed: ChangeFeed
  readonly revocations: RevocationCache
  readonly redis: Redis | undefined
  readonly secret: SecretKey
}

export interface ContextOptions {
  config: Config
  store: Store
  secret: SecretKey
  log: FastifyBaseLogger
  now?: () => number
  limiterFactory?: LimiterFactory
  passwords?: PasswordHasher
  metrics?: Metrics
  redis?: Redis
}

export function createContext(options: ContextOptions): ServerContext {
  const { config, store, secret, log } = options
  const now = options.now ?? Date.now
  const metrics = options.metrics ?? new Metrics()
  const keys = new Keystore(store, secret, config.signingAlg, config.accessTokenTtl, now)
  const revocations = new RevocationCache(now)
  const feed = new ChangeFeed(options.redis, `${config.redisPrefix}changes`, log)
  feed.on((event) => {
    if (event.type === 'keys_rotated') keys.reload().catch(() => {})
    else if (event.type === 'session_revoked') revocations.revokeSession(event.sid, event.until)
    else revocations.revokeToken(event.jti, event.until)
  })
  return {
    config,
    store,
    log,
    now,
    metrics,
    clients: new ClientDirectory(store, now),
    audit: new Audit(store, log),
    keys,
    accessTokens: new AccessTokenIssuer(keys, config.issuer, config.audience, config.accessTokenTtl, now),
    accessTokenVerifier: new AccessTokenVerifier(
      keys,
      store,
      revocations,
      config.issuer,
      config.audience,
      now,
    ),
    refreshTokens: new RefreshTokenCodec(secret.derive('refresh-token-mac')),
    clientSecrets: new SecretMac(secret.derive('client-secret-mac')),
    apiKeys: new SecretMac(secret.derive('api-key-mac')),
    passwords: options.passwords ?? new PasswordHasher(),
    loginLimiter: new LoginLimiter(config.loginMaxFailures, options.limiterFactory, (by) =>
      metrics.rateLimited.inc({ limiter: `login_${by}` }),
    ),
    feed,
    revocations,
    redis: options.redis,
    secret,
  }
}
