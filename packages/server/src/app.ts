import cookie from '@fastify/cookie'
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify'
import { CSRF_HEADER } from './browser/refresh-cookie.js'
import { type Config, unsafeSettings } from './config.js'
import { type ContextOptions, createContext, type ServerContext } from './context.js'
import { accountEndpoints } from './endpoints/account.js'
import { accountPageEndpoints } from './endpoints/account-page.js'
import { authorizeEndpoint } from './endpoints/authorize.js'
import { discoveryEndpoint } from './endpoints/discovery.js'
import { healthEndpoints } from './endpoints/health.js'
import { introspectEndpoint } from './endpoints/introspect.js'
import { jwksEndpoint } from './endpoints/jwks.js'
import { revokeEndpoint } from './endpoints/revoke.js'
import { tokenEndpoint } from './endpoints/token.js'
import { InvalidRequest, OAuthError, PayloadTooLarge } from './errors.js'
import { registerFormParser } from './http/form-body.js'
import { Metrics } from './metrics.js'
import { STYLESHEET } from './pages/styles.js'
import type { PasswordHasher } from './security/password-hash.js'
import { createStore } from './store/kysely-store.js'
import type { Store } from './store/store.js'
import { loadSecretKey, type SecretKey } from './tokens/secret-key.js'

declare module 'fastify' {
  interface FastifyInstance {
    tessera: ServerContext
  }
}

export interface BuildOptions {
  /** A store to use instead of opening `config.databaseUrl`; the caller keeps ownership. */
  store?: Store
  /** Injected clock (ms since the epoch), for tests. */
  now?: () => number
  /** Fastify logger options, or false for none. Defaults to JSON lines at `config.logLevel`. */
  logger?: FastifyServerOptions['logger']
  /** Apply pending migrations before serving (default true). */
  migrate?: boolean
  /** How often other instances' key rotations are picked up, in ms (default 1000). */
  keyPollInterval?: number
  limiterFactory?: ContextOptions['limiterFactory']
  passwords?: PasswordHasher
}

// Headers that carry credentials never reach a log line.
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
]

function toOAuthError(error: FastifyError): OAuthError | undefined {
  if (error instanceof OAuthError) return error
  if (error.validation) return new InvalidRequest(error.message.replace(/^body\//, ''))
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PayloadTooLarge('the request body is too large')
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new InvalidRequest('this content type is not accepted here')
  // Parser messages can quote the body (and so a password); say what is wrong, not what was sent.
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new InvalidRequest('the request could not be parsed')
  }
  return undefined
}

/**
 * Builds the whole Tessera server as a Fastify instance, ready to `listen()` or `inject()`.
 *
 * @example
 * const app = await buildApp(loadConfig())
 * await app.listen({ port: app.tessera.config.port, host: app.tessera.config.host })
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: {
        // The path only: a query string may carry a token (RFC 6750 §2.3) or a code.
        req: (request: { method: string; url: string; ip?: string }) => ({
          method: request.method,
          url: request.url.split('?')[0],
          remoteAddress: request.ip,
        }),
      },
    },
    trustProxy: config.trustProxy ? [...config.trustProxy] : false,
    bodyLimit: 64 * 1024,
    requestIdHeader: false,
    return503OnClosing: true,
    // Errors Fastify raises before routing (a malformed URL) would otherwise answer in its own
    // format, quoting the URL — and so any token in its query.
    frameworkErrors: (error, _request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply
      reply
        .code(400)
        .header('cache-control', 'no-store')
        .send({
          error: 'invalid_request',
          error_description:
            error.code === 'FST_ERR_BAD_URL' ? 'the request URL is malformed' : 'the request is malformed',
        })
    },
  })
  const ownsStore = options.store === undefined
  const store = options.store ?? createStore(config.databaseUrl, { poolSize: config.databasePoolSize })
  try {
    const secretKey = loadSecretKey(config.secretKey, config.dataDir)
    if (secretKey.generated) {
      app.log.warn(
        'TESSERA_SECRET_KEY is not set: generated one in the data directory. Set it explicitly in production; every instance must share it.',
      )
    }
    for (const warning of unsafeSettings(config)) app.log.warn(warning)

    if (options.migrate !== false) await store.migrate()
    const metrics = new Metrics()
    // Redis support is loaded only when configured: a single instance never pays its memory.
    const scale = config.redisUrl ? await import('./scale/redis.js') : undefined
    const redis = scale && config.redisUrl ? scale.connectRedis(config.redisUrl, app.log, metrics) : undefined
    const limiterFactory =
      options.limiterFactory ?? (scale && redis ? scale.redisLimiters(redis, config.redisPrefix) : undefined)
    const ctx = createContext({
      config,
      store,
      secret: secretKey.key as SecretKey,
      log: app.log,
      metrics,
      ...(redis ? { redis } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(limiterFactory ? { limiterFactory } : {}),
      ...(options.passwords ? { passwords: options.passwords } : {}),
    })
    await ctx.keys.init()
    await ctx.feed.start()
    app.decorate('tessera', ctx)

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Tessera',
          version: '0.1.0',
          description:
            'OAuth 2 token service: rotating refresh tokens, revocation, introspection, account API.',
        },
        servers: [{ url: config.issuer }],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068)' },
            clientBasic: { type: 'http', scheme: 'basic' },
          },
        },
      },
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })

    await app.register(cookie, { secret: ctx.secret.derive('browser-cookie-mac') })
    // Browser apps on their own origins call the token, revocation and account endpoints; only
    // origins of registered redirect URIs are let in, with credentials for cookie mode.
    await app.register(cors, {
      credentials: true,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', CSRF_HEADER],
      maxAge: 600,
      origin: (origin, callback) => {
        if (origin === undefined) return callback(null, false)
        ctx.clients.browserOrigins(config.issuer).then(
          (origins) => callback(null, origins.has(origin)),
          () => callback(null, false),
        )
      },
    })
    registerFormParser(app)
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const oauth = toOAuthError(error)
      if (!oauth) {
        request.log.error({ err: error }, 'unexpected error')
        return reply.code(500).header('cache-control', 'no-store').send({
          error: 'server_error',
          error_description: 'an unexpected error occurred',
          request_id: request.id,
        })
      }
      if (oauth.status >= 500) request.log.warn({ err: oauth.cause ?? oauth }, oauth.message)
      else request.log.info({ error: oauth.error, reason: oauth.message }, 'request refused')
      return reply
        .code(oauth.status)
        .headers({ 'cache-control': 'no-store', ...oauth.headers() })
        .send({ error: oauth.error, error_description: oauth.error_description })
    })
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send({
        error: 'not_found',
        error_description: `no route for ${request.method} ${request.url.split('?')[0]}`,
      }),
    )
    // A callback hook, not an async one: it runs on every response, and a promise apiece is waste.
    app.addHook('onResponse', (request, reply, done) => {
      ctx.metrics.requestDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      )
      done()
    })

    tokenEndpoint(app, ctx)
    revokeEndpoint(app, ctx)
    introspectEndpoint(app, ctx)
    jwksEndpoint(app, ctx)
    discoveryEndpoint(app, ctx)
    accountEndpoints(app, ctx)
    authorizeEndpoint(app, ctx)
    accountPageEndpoints(app, ctx)
    app.get('/assets/tessera.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
    )
    healthEndpoints(app, ctx, redis ? { redis: async () => void (await redis.ping()) } : {})
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

    const keyPoll = setInterval(() => {
      ctx.keys.reload().catch((error: unknown) => app.log.debug({ err: error }, 'key reload failed'))
    }, options.keyPollInterval ?? 1000)
    keyPoll.unref()
    const purge = setInterval(() => {
      store
        .purgeExpired(ctx.now())
        .catch((error: unknown) => app.log.warn({ err: error }, 'purge of expired rows failed'))
    }, 3_600_000)
    purge.unref()
    app.addHook('onClose', async () => {
      clearInterval(keyPoll)
      clearInterval(purge)
      await ctx.feed.close()
      redis?.disconnect()
      if (ownsStore) await store.close()
    })
    return app
  } catch (error) {
    // A server that cannot start (a wrong secret key, a database refusing migrations) leaves nothing open.
    await app.close().catch(() => {})
    if (ownsStore) await store.close().catch(() => {})
    throw error
  }
}
