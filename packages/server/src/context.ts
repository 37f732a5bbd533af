import type { FastifyBaseLogger } from 'fastify'
import { Audit } from './audit.js'
import { ClientDirectory } from './clients.js'
import type { Config } from './config.js'
import { Metrics } from './metrics.js'
import { type LimiterFactory, LoginLimiter } from './security/login-limiter.js'
import { PasswordHasher } from './security/password-hash.js'
import { SecretMac } from './security/secret-mac.js'
import type { Store } from './store/store.js'
import { AccessTokenIssuer } from './tokens/access-token.js'
import { Keystore } from './tokens/keys.js'
import { RefreshTokenCodec } from './tokens/refresh-token.js'
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
}

export interface ContextOptions {
  config: Config
  store: Store
  secret: SecretKey
  log: FastifyBaseLogger
  now?: () => number
  limiterFactory?: LimiterFactory
  passwords?: PasswordHasher
}

export function createContext(options: ContextOptions): ServerContext {
  const { config, store, secret, log } = options
  const now = options.now ?? Date.now
  const metrics = new Metrics()
  const keys = new Keystore(store, secret, config.signingAlg, config.accessTokenTtl, now)
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
    accessTokenVerifier: new AccessTokenVerifier(keys, store, config.issuer, config.audience, now),
    refreshTokens: new RefreshTokenCodec(secret.derive('refresh-token-mac')),
    clientSecrets: new SecretMac(secret.derive('client-secret-mac')),
    apiKeys: new SecretMac(secret.derive('api-key-mac')),
    passwords: options.passwords ?? new PasswordHasher(),
    loginLimiter: new LoginLimiter(config.loginMaxFailures, options.limiterFactory, (by) =>
      metrics.rateLimited.inc({ limiter: `login_${by}` }),
    ),
  }
}
