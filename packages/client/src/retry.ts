/** How `client.fetch` retries API requests that fail for lack of the server (ky's policy). */
export interface RetryOptions {
  /** Retries after the first attempt (default 2); `0` turns retries off. */
  limit?: number
  /** Methods that may be sent again (default the idempotent ones of RFC 9110 §9.2.2). */
  methods?: string[]
  /** Statuses worth another attempt (default 408, 429, 500, 502, 503, 504). */
  statusCodes?: number[]
  /** The longest `Retry-After` honoured, in ms (default 30 s); a longer one returns the response as is. */
  maxRetryAfterMs?: number
}

export interface RetryPolicy {
  limit: number
  methods: ReadonlySet<string>
  statusCodes: ReadonlySet<number>
  maxRetryAfterMs: number
}

/**
 * Fills in the defaults of a `retry` option: a number is the limit, an object overrides fields.
 *
 * @example
 * retryPolicy({ limit: 3 }).methods.has('POST') // false: POST is not idempotent
 */
export function retryPolicy(option: number | RetryOptions | undefined): RetryPolicy {
  const options = typeof option === 'number' ? { limit: option } : (option ?? {})
  return {
    limit: options.limit ?? 2,
    methods: new Set(
      (options.methods ?? ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']).map((m) => m.toUpperCase()),
    ),
    statusCodes: new Set(options.statusCodes ?? [408, 429, 500, 502, 503, 504]),
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
  }
}

/**
 * Exponential backoff with full jitter: a random wait in 0…base·2^attempt ms, at most `max`.
 *
 * @example
 * await sleep(backoff(attempt))
 */
export function backoff(attempt: number, base = 200, max = 5000): number {
  return Math.round(Math.random() * Math.min(max, base * 2 ** attempt))
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3: delta-seconds or an HTTP date) as milliseconds.
 *
 * @example
 * retryAfterMs(response.headers.get('retry-after'), Date.now()) // 120_000 for "120"
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * True when fetch can send a request body twice; a stream is consumed by the first attempt.
 *
 * @example
 * replayable(JSON.stringify(order)) // true
 */
export function replayable(body: RequestInit['body'] | undefined): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    (typeof Blob !== 'undefined' && body instanceof Blob) ||
    (typeof FormData !== 'undefined' && body instanceof FormData)
  )
}

/**
 * Waits `ms`, or rejects with the signal's reason as soon as it aborts.
 *
 * @example
 * await sleep(250, request.signal)
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
