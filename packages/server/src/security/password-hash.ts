import { availableParallelism } from 'node:os'
import argon2 from 'argon2'
import pLimit from 'p-limit'

// OWASP's argon2id baseline (19 MiB, t=2, p=1): slow by design, so a login storm must queue here
// instead of taking every thread of the pool that other requests need.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

/**
 * One core is always left to the event loop: argon2id runs on the thread pool, and every hash
 * in flight takes a core from token refreshes for tens of milliseconds.
 */
const defaultConcurrency = () => Math.max(1, Math.min(4, availableParallelism() - 1))

/** Hashes and checks passwords with argon2id, at most `concurrency` at a time. */
export class PasswordHasher {
  readonly #limit: ReturnType<typeof pLimit>
  #dummy: Promise<string> | undefined

  constructor(concurrency = defaultConcurrency()) {
    this.#limit = pLimit(concurrency)
  }

  hash(password: string): Promise<string> {
    return this.#limit(() => argon2.hash(password, OPTIONS))
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.#limit(async () => {
      try {
        return await argon2.verify(hash, password)
      } catch {
        return false
      }
    })
  }

  /** Spends the time of a real check, so an unknown username answers as slowly as a known one. */
  async verifyNobody(password: string): Promise<false> {
    this.#dummy ??= argon2.hash('tessera-no-such-user', OPTIONS)
    await this.verify(await this.#dummy, password)
    return false
  }

  get pending(): number {
    return this.#limit.pendingCount + this.#limit.activeCount
  }
}
