import { TemporarilyUnavailableError } from './errors.js'
import { type FetchLike, fetchJson } from './fetch-json.js'
import { TokenCache } from './token-cache.js'

/** Credentials and caching for RFC 7662 token introspection. */
export interface IntrospectionOptions {
  /** The guard's own client id at the authorization server. */
  readonly clientId: string
  readonly clientSecret: string
  /** Defaults to `introspection_endpoint` from the issuer's metadata. */
  readonly endpoint?: string
  /** Seconds an access-token answer is reused in `mode: 'introspection'`; default 5. */
  readonly cacheTtl?: number
  /** Seconds an API-key answer is reused; default 30. */
  readonly apiKeyCacheTtl?: number
}

/** An RFC 7662 §2.2 answer. */
export interface IntrospectionResponse {
  readonly active: boolean
  readonly scope?: string
  readonly client_id?: string
  readonly sub?: string
  readonly exp?: number
  readonly iat?: number
  readonly jti?: string
  readonly sid?: string
  readonly roles?: readonly string[]
  readonly token_type?: string
  readonly [field: string]: unknown
}

export interface IntrospectorOptions {
  readonly clientId: string
  readonly clientSecret: string
  readonly resolveEndpoint: () => Promise<string>
  readonly fetch: FetchLike
  readonly timeout: number
  readonly now: () => number
  readonly cacheSize: number
  readonly onError: (error: unknown) => void
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded.
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1)
}

export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

function parseAnswer(document: Record<string, unknown>): IntrospectionResponse {
  if (typeof document.active !== 'boolean') throw new Error('introspection answer has no boolean active')
  if (document.active !== true) return { active: false }
  if (document.exp !== undefined && typeof document.exp !== 'number')
    throw new Error('introspection exp is not a number')
  if (document.scope !== undefined && typeof document.scope !== 'string')
    throw new Error('introspection scope is not a string')
  if (document.roles !== undefined && !isStringArray(document.roles))
    throw new Error('introspection roles is not a string array')
  return Object.freeze(document as IntrospectionResponse)
}

/** Asks the authorization server whether a token is active, caching answers briefly and sharing in-flight calls. */
export class Introspector {
  readonly #options: IntrospectorOptions
  readonly #authorization: string
  readonly #cache: TokenCache<IntrospectionResponse>
  readonly #inflight = new Map<string, Promise<IntrospectionResponse>>()

  constructor(options: IntrospectorOptions) {
    this.#options = options
    this.#authorization = basicAuthorization(options.clientId, options.clientSecret)
    this.#cache = new TokenCache(options.cacheSize)
  }

  introspect(token: string, ttlSeconds: number, hint?: string): Promise<IntrospectionResponse> {
    const now = this.#options.now()
    const cached = this.#cache.get(token, now)
    if (cached) return Promise.resolve(cached)
    let pending = this.#inflight.get(token)
    if (!pending) {
      pending = this.#ask(token, hint).then(
        (answer) => {
          this.#inflight.delete(token)
          const until = this.#options.now() + ttlSeconds * 1000
          this.#cache.set(
            token,
            answer,
            answer.exp === undefined ? until : Math.min(until, answer.exp * 1000),
          )
          return answer
        },
        (error: unknown) => {
          this.#inflight.delete(token)
          this.#options.onError(error)
          // An outage is never an answer: the caller refuses the request with 503 rather than guessing.
          throw new TemporarilyUnavailableError('introspection_unavailable', { cause: error })
        },
      )
      this.#inflight.set(token, pending)
    }
    return pending
  }

  forget(predicate: (answer: IntrospectionResponse) => boolean): void {
    this.#cache.deleteWhere(predicate)
  }

  async #ask(token: string, hint: string | undefined): Promise<IntrospectionResponse> {
    const endpoint = await this.#options.resolveEndpoint()
    const body = new URLSearchParams({ token })
    if (hint !== undefined) body.set('token_type_hint', hint)
    const document = await fetchJson(endpoint, {
      fetch: this.#options.fetch,
      timeout: this.#options.timeout,
      init: {
        method: 'POST',
        body: body.toString(),
        headers: { authorization: this.#authorization, 'content-type': 'application/x-www-form-urlencoded' },
      },
    })
    return parseAnswer(document)
  }
}
