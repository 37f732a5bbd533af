/**
 * Single flight: while one run is in progress every caller shares its promise, so any number of
 * concurrent requests that find the access token stale cause one refresh — and one refresh token
 * is presented once, not raced against itself.
 *
 * @example
 * const flight = new SingleFlight<Tokens>()
 * const [a, b] = await Promise.all([flight.run(refresh), flight.run(refresh)]) // one call to refresh
 */
export class SingleFlight<T> {
  #current: Promise<T> | undefined

  /**
   * Starts `task`, or joins the run already in progress.
   *
   * @example
   * const tokens = await flight.run(() => tokenRequest(form))
   */
  run(task: () => Promise<T>): Promise<T> {
    if (!this.#current) {
      this.#current = task().finally(() => {
        this.#current = undefined
      })
    }
    return this.#current
  }

  /** True while a run is in progress. */
  get busy(): boolean {
    return this.#current !== undefined
  }
}

/**
 * Waits for a shared promise, but lets one caller give up (AbortSignal) without cancelling it.
 *
 * @example
 * const tokens = await withSignal(flight.run(refresh), init.signal)
 */
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
