export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export interface FetchJsonOptions {
  readonly fetch: FetchLike
  readonly timeout: number
  readonly init?: RequestInit
}

// A hostile or broken endpoint must not make the guard buffer an unbounded body.
const MAX_BODY_BYTES = 1_000_000

/** Fetches a JSON object; throws a plain Error (never a GuardError) so callers choose the outcome. */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<Record<string, unknown>> {
  const response = await options.fetch(url, {
    ...options.init,
    redirect: 'error',
    signal: AbortSignal.timeout(options.timeout),
    headers: { accept: 'application/json', ...options.init?.headers },
  })
  if (!response.ok) {
    await response.body?.cancel()
    throw new Error(`${url} answered ${response.status}`)
  }
  const length = Number(response.headers.get('content-length') ?? 0)
  if (length > MAX_BODY_BYTES) {
    await response.body?.cancel()
    throw new Error(`${url} answered a body over ${MAX_BODY_BYTES} bytes`)
  }
  const text = await response.text()
  if (text.length > MAX_BODY_BYTES) throw new Error(`${url} answered a body over ${MAX_BODY_BYTES} bytes`)
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${url} did not answer a JSON object`)
  }
  return value as Record<string, unknown>
}
