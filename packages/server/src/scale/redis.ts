import { createRequire } from 'node:module'
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import type { Metrics } from '../metrics.js'
import type { LimiterFactory } from '../security/login-limiter.js'

// As in login-limiter.ts: only the two limiter files, not every backend the package supports.
const load = createRequire(import.meta.url)
const RateLimiterMemory = load(
  'rate-limiter-flexible/lib/RateLimiterMemory',
) as typeof import('rate-limiter-flexible').RateLimiterMemory
const RateLimiterRedis = load(
  'rate-limiter-flexible/lib/RateLimiterRedis',
) as typeof import('rate-limiter-flexible').RateLimiterRedis

/**
 * One Redis connection for commands. Commands fail at once while Redis is away (no offline
 * queue), so a request never waits on it; the client keeps reconnecting in the background.
 */
export function connectRedis(url: string, log: FastifyBaseLogger, metrics: Metrics): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  })
  let healthy = true
  redis.on('ready', () => {
    metrics.dependencyUp.set({ dependency: 'redis' }, 1)
    if (!healthy) log.warn('Redis is back: rate limits are shared across instances again')
    healthy = true
  })
  redis.on('error', (error: Error) => {
    metrics.dependencyUp.set({ dependency: 'redis' }, 0)
    if (healthy) {
      log.warn(
        { err: error },
        'Redis is unavailable: rate limits fall back to per-instance counters until it returns',
      )
      metrics.redisFallbacks.inc()
    }
    healthy = false
  })
  return redis
}

/**
 * Login limits shared by every instance through Redis. When Redis is unreachable the
 * insurance limiter (per instance, in memory) takes over: limits loosen to per-instance
 * instead of failing every login.
 */
export function redisLimiters(redis: Redis, prefix: string): LimiterFactory {
  return (options) =>
    new RateLimiterRedis({
      ...options,
      keyPrefix: `${prefix}${options.keyPrefix}`,
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(options),
    })
}
