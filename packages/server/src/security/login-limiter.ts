import { createRequire } from 'node:module'
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'

// The package's index loads every backend it supports (MongoDB, DynamoDB, etcd …), about 10 MB of
// memory; the in-memory limiter alone is one small file.
const RateLimiterMemory = createRequire(import.meta.url)(
  'rate-limiter-flexible/lib/RateLimiterMemory',
) as typeof import('rate-limiter-flexible').RateLimiterMemory

import { TooManyRequests } from '../errors.js'

const WINDOW_SECONDS = 15 * 60

export type LimiterFactory = (options: {
  keyPrefix: string
  points: number
  duration: number
}) => RateLimiterAbstract

export const memoryLimiters: LimiterFactory = (options) => new RateLimiterMemory(options)

/**
 * Brute-force limits on passwords (SPEC §4): failures per username and, ten times looser, per
 * client IP, in a 15-minute window. Only failures count, so other users and honest logins are
 * never slowed; a correct password clears the user's count.
 */
export class LoginLimiter {
  readonly #perUser: RateLimiterAbstract
  readonly #perIp: RateLimiterAbstract

  constructor(
    readonly maxFailures: number,
    factory: LimiterFactory = memoryLimiters,
    private readonly onLimited: (by: 'user' | 'ip') => void = () => {},
  ) {
    this.#perUser = factory({ keyPrefix: 'login-user', points: maxFailures, duration: WINDOW_SECONDS })
    this.#perIp = factory({ keyPrefix: 'login-ip', points: maxFailures * 10, duration: WINDOW_SECONDS })
  }

  /** Throws {@link TooManyRequests} when this user or this address has used up its failures. */
  async check(username: string, ip: string): Promise<void> {
    const [user, addr] = await Promise.all([this.#perUser.get(userKey(username)), this.#perIp.get(ip)])
    if (user && user.consumedPoints >= this.maxFailures) this.#reject('user', user)
    if (addr && addr.consumedPoints >= this.maxFailures * 10) this.#reject('ip', addr)
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    await Promise.all([this.#perUser.penalty(userKey(username), 1), this.#perIp.penalty(ip, 1)])
  }

  async recordSuccess(username: string): Promise<void> {
    await this.#perUser.delete(userKey(username))
  }

  #reject(by: 'user' | 'ip', res: RateLimiterRes): never {
    this.onLimited(by)
    throw new TooManyRequests('too many failed sign-in attempts; try again later', res.msBeforeNext / 1000)
  }
}

const userKey = (username: string) => username.toLowerCase()
