/**
 * Single flight: while one run is in progress every caller shares its promise, so any number of
 * concurrent requests that find the access token stale cause one refresh — and one refresh token
 * is presented once, not raced against itself.
 */
export class SingleFlight<T> {
  #current: Promise<T> | undefined

  run(task: () => Promise<T>): Promise<T> {
    if (!this.#current) {
      this.#current = task().finally(() => {
        this.#current = undefined
      })
    }
    return this.#current
  }

  get busy(): boolean {
    return this.#current !== undefined
  }
}

/** Waits for a shared promise, but lets one caller give up (AbortSignal) without cancelling it. */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** Exponential backoff with full jitter (bounded): 0…base·2^attempt ms, at most `max`. */
export function backoff(attempt: number, base = 200, max = 5000): number {
  return Math.round(Math.random() * Math.min(max, base * 2 ** attempt))
}
