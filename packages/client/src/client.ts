import { DiscoveryError } from './errors/discovery-error.js'
import { NetworkError } from './errors/network-error.js'
import { NotSignedInError } from './errors/not-signed-in-error.js'
import { OAuthError } from './errors/oauth-error.js'
import { SingleFlight, withSignal } from './refresh.js'
import { backoff, type RetryOptions, replayable, retryAfterMs, retryPolicy, sleep } from './retry.js'
import { memoryStorage, type TokenStorage, type Tokens } from './storage.js'
import {
  browserTabs,
  type ChannelLike,
  type LockManagerLike,
  TabCoordinator,
  type TabMessage,
} from './tabs.js'

/** What a `beforeRequest` hook sees; return a `Request` to send instead, or a `Response` to answer with. */
export interface BeforeRequestState {
  request: Request
  /** 0 for the first attempt, then 1, 2, … (a retry after a refresh counts too). */
  retryCount: number
}
/** What an `afterResponse` hook sees; return a `Response` to hand on instead. */
export interface AfterResponseState {
  request: Request
  response: Response
  retryCount: number
}
/** What a `beforeRefresh` hook sees, just before the client presents its refresh token. */
export interface BeforeRefreshState {
  tokens: Tokens
  /** `expiring`: proactive; `rejected`: an API answered 401 invalid_token; `requested`: `client.refresh()`. */
  reason: RefreshReason
}
export type RefreshReason = 'expiring' | 'rejected' | 'requested'

/** ky-style hooks: arrays of functions, each taking one state object, run in order. */
export interface Hooks {
  beforeRequest?: ((
    state: BeforeRequestState,
    // biome-ignore lint/suspicious/noConfusingVoidType: a hook may return nothing, as in ky
  ) => Request | Response | void | Promise<Request | Response | void>)[]
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook may return nothing, as in ky
  afterResponse?: ((state: AfterResponseState) => Response | void | Promise<Response | void>)[]
  beforeRefresh?: ((state: BeforeRefreshState) => void | Promise<void>)[]
}

export interface ClientOptions {
  /** The Tessera issuer URL; endpoints are discovered from its RFC 8414 metadata. */
  issuer: string
  clientId: string
  /** Only for confidential clients (server-side apps); never ship one to a browser. */
  clientSecret?: string
  /** `cookie`: the server keeps the refresh token in an HttpOnly cookie (browser apps). */
  refreshTokenStorage?: 'client' | 'cookie'
  storage?: TokenStorage
  /** Refresh this long before expiry; default a tenth of the token's lifetime, 5–30 s. */
  refreshSkewMs?: number
  /** Attempts for a refresh that meets network errors, 429 or 5xx (default 4). */
  retries?: number
  /** Retries of API requests made with `client.fetch` (default 2, idempotent methods only). */
  retry?: number | RetryOptions
  hooks?: Hooks
  fetch?: typeof fetch
  now?: () => number
  tokenEndpoint?: string
  revocationEndpoint?: string
  /**
   * Cross-tab coordination: `navigator.locks` and a `BroadcastChannel` in browsers by default;
   * `{ locks, channel }` replaces both (either may be left out), `false` turns it off.
   */
  tabs?: { locks?: LockManagerLike; channel?: ChannelLike } | false
}

/** Why the client signed out: the user asked, the server ended the session, or another tab did. */
export type LogoutReason = 'logout' | 'invalid_grant' | 'other_tab'
export interface ClientEvents {
  /** New tokens were stored: after login, after every refresh, and when another tab refreshed. */
  refreshed: (tokens: Tokens) => void
  logout: (event: { reason: LogoutReason }) => void
}

export interface TesseraClient {
  /** Signs in with the password grant (RFC 6749 §4.3); never retried, since a login is not idempotent. */
  login(username: string, password: string, options?: { scope?: string }): Promise<Tokens>
  /** `fetch` with the bearer token attached, refreshed as needed. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** Refreshes now (single flight), whatever the access token's age. */
  refresh(options?: { signal?: AbortSignal }): Promise<Tokens>
  /** A valid access token, refreshed first if it is about to expire. */
  accessToken(options?: { signal?: AbortSignal }): Promise<string>
  /** Ends the session on the server and here; local state is cleared even if the server is down. */
  logout(): Promise<void>
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void
  readonly signedIn: Promise<boolean>
  /** Stops listening to other tabs. */
  close(): void
}

interface TokenResponse {
  access_token?: unknown
  expires_in?: unknown
  refresh_token?: unknown
  scope?: unknown
  error?: unknown
  error_description?: unknown
}

const LOGOUT_TIMEOUT_MS = 10_000
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
const isAbort = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')

/**
 * Creates a token-keeping client: it signs in, attaches the access token to requests, refreshes
 * it before it expires (or once after a 401 `invalid_token`), shares one refresh among any number
 * of concurrent callers and tabs, retries outages with backoff, and signs out only when the
 * server says the session is over (`invalid_grant`).
 *
 * @example
 * const client = createClient({ issuer: 'https://auth.example.com', clientId: 'web' })
 * client.on('logout', () => showSignIn())
 * await client.login('alice', 'correct horse battery staple')
 * const orders = await (await client.fetch('https://api.example.com/orders')).json()
 */
export function createClient(options: ClientOptions): TesseraClient {
  if (!options || typeof options.issuer !== 'string' || typeof options.clientId !== 'string') {
    throw new TypeError('createClient needs { issuer, clientId }')
  }
  if (!URL.canParse(options.issuer)) throw new TypeError(`issuer is not a URL: ${options.issuer}`)
  if (
    options.refreshTokenStorage !== undefined &&
    !['client', 'cookie'].includes(options.refreshTokenStorage)
  )
    throw new TypeError("refreshTokenStorage is 'client' or 'cookie'")
  if (options.retries !== undefined && !(Number.isInteger(options.retries) && options.retries >= 1))
    throw new TypeError('retries is a whole number of attempts, at least 1')
  if (options.refreshSkewMs !== undefined && !(options.refreshSkewMs >= 0))
    throw new TypeError('refreshSkewMs is a number of milliseconds')
  if (options.refreshTokenStorage === 'cookie' && options.clientSecret !== undefined)
    throw new TypeError('cookie mode is for browser apps, which are public clients: drop clientSecret')

  const issuer = options.issuer.replace(/\/+$/, '')
  const http = options.fetch ?? globalThis.fetch.bind(globalThis)
  const now = options.now ?? Date.now
  const storage = options.storage ?? memoryStorage()
  const cookieMode = options.refreshTokenStorage === 'cookie'
  const attempts = options.retries ?? 4
  const apiRetry = retryPolicy(options.retry)
  const hooks = options.hooks ?? {}
  const listeners: { [E in keyof ClientEvents]: Set<ClientEvents[E]> } = {
    refreshed: new Set(),
    logout: new Set(),
  }
  const flight = new SingleFlight<Tokens>()
  const tabName = `tessera:${issuer}:${options.clientId}`
  const tabApis =
    options.tabs === false ? { locks: undefined, channel: undefined } : (options.tabs ?? browserTabs(tabName))
  const tabs = new TabCoordinator(tabName, tabApis.locks, tabApis.channel, (message) => void adopt(message))
  let endpoints: Promise<{ token: string; revocation: string | undefined }> | undefined
  // Bumped by every login and logout: a refresh that was in flight then must not store its
  // result, or a logout would be undone by the answer to a request sent just before it.
  let generation = 0

  const emit = <E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>) => {
    for (const listener of listeners[event]) {
      try {
        ;(listener as (...a: Parameters<ClientEvents[E]>) => void)(...args)
      } catch (error) {
        // An app's listener must not break the refresh every other caller waits on.
        ;(globalThis as { reportError?: (e: unknown) => void }).reportError?.(error)
      }
    }
  }

  async function adopt(message: TabMessage) {
    if (message.type === 'tokens') {
      const current = await storage.get()
      // Broadcasts can arrive late; never step back to tokens older than those held.
      if (current && current.issuedAt > message.tokens.issuedAt) return
      const { refreshToken: _, ...withoutRefreshToken } = message.tokens
      await storage.set(cookieMode ? withoutRefreshToken : message.tokens)
      emit('refreshed', message.tokens)
    } else {
      generation++
      await storage.clear()
      emit('logout', { reason: 'other_tab' })
    }
  }

  function discover() {
    endpoints ??= (async () => {
      if (options.tokenEndpoint)
        return { token: options.tokenEndpoint, revocation: options.revocationEndpoint }
      let response: Response
      try {
        response = await http(`${issuer}/.well-known/oauth-authorization-server`, {
          headers: { accept: 'application/json' },
        })
      } catch (error) {
        throw new NetworkError('the token server cannot be reached', undefined, { cause: error })
      }
      if (response.status === 429 || response.status >= 500)
        throw new NetworkError(`discovery answered ${response.status}`, response.status)
      if (!response.ok) throw new DiscoveryError(`discovery answered ${response.status}`)
      const meta = (await response.json().catch(() => null)) as {
        issuer?: unknown
        token_endpoint?: unknown
        revocation_endpoint?: unknown
      } | null
      if (typeof meta?.token_endpoint !== 'string')
        throw new DiscoveryError('the metadata has no token_endpoint')
      // RFC 8414 §3.3: metadata naming another issuer is rejected (it would send the user's
      // password to whoever answered).
      if (typeof meta.issuer !== 'string' || meta.issuer.replace(/\/+$/, '') !== issuer)
        throw new DiscoveryError(`the metadata names issuer ${String(meta.issuer)}, not ${issuer}`)
      return {
        token: meta.token_endpoint,
        revocation:
          options.revocationEndpoint ??
          (typeof meta.revocation_endpoint === 'string' ? meta.revocation_endpoint : undefined),
      }
    })().catch((error: unknown) => {
      endpoints = undefined
      throw error
    })
    return endpoints
  }

  function clientRequest(form: Record<string, string>): RequestInit {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    }
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64'd.
    if (options.clientSecret !== undefined) {
      headers.authorization = `Basic ${btoa(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`)}`
    }
    if (cookieMode) headers['x-tessera-csrf'] = '1'
    return {
      method: 'POST',
      headers,
      body: new URLSearchParams(
        options.clientSecret === undefined ? { client_id: options.clientId, ...form } : form,
      ).toString(),
      ...(cookieMode ? { credentials: 'include' as const } : {}),
    }
  }

  /**
   * One token-endpoint call. An idempotent one (a refresh, thanks to the grace window) is retried
   * through network errors, 429 and 5xx; a login only through 503, which says nothing was done.
   */
  async function tokenRequest(
    form: Record<string, string>,
    idempotent: boolean,
    previous?: Tokens,
  ): Promise<Tokens> {
    const { token: url } = await discover()
    let lastError: NetworkError | undefined
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(lastError?.retryAfterMs ?? backoff(attempt))
      let response: Response
      try {
        response = await http(url, clientRequest(form))
      } catch (error) {
        // A response lost on the way back: presenting the same refresh token again is safe,
        // because the server's grace window answers a retry with the same successor.
        lastError = new NetworkError('the token server cannot be reached', undefined, { cause: error })
        if (!idempotent) break
        continue
      }
      if (response.status === 429 || response.status >= 500) {
        const wait = retryAfterMs(response.headers.get('retry-after'), now())
        lastError = new NetworkError(`the token server answered ${response.status}`, response.status, {
          retryAfterMs: wait,
        })
        await response.body?.cancel()
        if ((!idempotent && response.status !== 503) || (wait !== undefined && wait > 30_000)) break
        continue
      }
      const json = ((await response.json().catch(() => null)) ?? {}) as TokenResponse
      if (!response.ok) {
        throw new OAuthError(
          typeof json.error === 'string' ? json.error : 'invalid_request',
          response.status,
          typeof json.error_description === 'string' ? json.error_description : undefined,
        )
      }
      if (typeof json.access_token !== 'string' || json.access_token === '')
        throw new NetworkError('the token server sent no access token', response.status)
      const issuedAt = now()
      const lifetime = typeof json.expires_in === 'number' ? json.expires_in * 1000 : undefined
      // RFC 6749 §6: the server MAY keep the refresh token; then the client keeps using it.
      const refreshToken =
        typeof json.refresh_token === 'string' ? json.refresh_token : previous?.refreshToken
      return {
        accessToken: json.access_token,
        issuedAt,
        // Without expires_in the client cannot refresh ahead of time and relies on 401 invalid_token.
        expiresAt: lifetime === undefined ? Number.MAX_SAFE_INTEGER : issuedAt + lifetime,
        scope: typeof json.scope === 'string' ? json.scope : (previous?.scope ?? ''),
        ...(refreshToken !== undefined && !cookieMode ? { refreshToken } : {}),
      }
    }
    throw lastError ?? new NetworkError('the token server cannot be reached')
  }

  async function signOutLocally(reason: LogoutReason) {
    generation++
    await storage.clear()
    tabs.announce({ type: 'logout', reason })
    emit('logout', { reason })
  }

  async function store(tokens: Tokens) {
    await storage.set(tokens)
    tabs.announce({ type: 'tokens', tokens })
    emit('refreshed', tokens)
    return tokens
  }

  const skew = (tokens: Tokens) =>
    options.refreshSkewMs ?? Math.min(30_000, Math.max(5_000, (tokens.expiresAt - tokens.issuedAt) / 10))
  const stale = (tokens: Tokens) => tokens.expiresAt - now() <= skew(tokens)

  async function refreshOnce(reason: RefreshReason, rejected: string | undefined): Promise<Tokens> {
    const started = generation
    const before = await storage.get()
    if (!before) throw new NotSignedInError()
    return tabs.exclusive(async () => {
      // Another tab may have refreshed while this one waited for the lock: use its result
      // rather than present a refresh token that has just been rotated.
      const current = await storage.get()
      if (!current || generation !== started) throw new NotSignedInError()
      if (current.accessToken !== before.accessToken && !stale(current)) return current
      if (reason === 'expiring' && !stale(current)) return current
      if (reason === 'rejected' && current.accessToken !== rejected) return current
      if (!cookieMode && !current.refreshToken) throw new NotSignedInError()
      for (const hook of hooks.beforeRefresh ?? []) await hook({ tokens: current, reason })
      let next: Tokens
      try {
        next = await tokenRequest(
          cookieMode
            ? { grant_type: 'refresh_token' }
            : { grant_type: 'refresh_token', refresh_token: current.refreshToken! },
          true,
          current,
        )
      } catch (error) {
        if (generation !== started) throw new NotSignedInError()
        if (error instanceof OAuthError && error.error === 'invalid_grant') {
          // Without a lock, a tab sharing this storage may have rotated meanwhile; its tokens
          // are good and this answer is about the token it replaced.
          const latest = await storage.get()
          if (latest && latest.issuedAt > current.issuedAt) return latest
          await signOutLocally('invalid_grant')
        }
        throw error
      }
      if (generation !== started) throw new NotSignedInError()
      return store(next)
    })
  }

  async function refresh(reason: RefreshReason, signal?: AbortSignal, rejected?: string): Promise<Tokens> {
    let tokens = await withSignal(
      flight.run(() => refreshOnce(reason, rejected)),
      signal,
    )
    // A caller that joined a flight started for another reason may get back the very token
    // the API just refused; one flight of its own settles it.
    if (rejected !== undefined && tokens.accessToken === rejected)
      tokens = await withSignal(
        flight.run(() => refreshOnce(reason, rejected)),
        signal,
      )
    return tokens
  }

  async function accessToken(signal?: AbortSignal): Promise<string> {
    const tokens = await storage.get()
    if (!tokens) throw new NotSignedInError()
    if (!stale(tokens)) return tokens.accessToken
    return (await refresh('expiring', signal)).accessToken
  }

  async function send(request: Request, token: string, retryCount: number): Promise<Response> {
    const headers = new Headers(request.headers)
    headers.set('authorization', `Bearer ${token}`)
    let authorized = new Request(request, { headers })
    let response: Response | undefined
    for (const hook of hooks.beforeRequest ?? []) {
      const result = await hook({ request: authorized, retryCount })
      if (result instanceof Request) authorized = result
      // As in ky, a hook's own Response skips the network but still meets afterResponse.
      if (result instanceof Response) {
        response = result
        break
      }
    }
    response ??= await http(authorized)
    for (const hook of hooks.afterResponse ?? []) {
      const result = await hook({ request: authorized, response, retryCount })
      if (result instanceof Response) response = result
    }
    return response
  }

  async function apiFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const request = new Request(input, init)
    const signal = request.signal
    let token = await accessToken(signal)
    // Only bodies that can be sent twice are retried; a stream is consumed by the first attempt.
    const canReplay = request.body === null || (init.body !== undefined && replayable(init.body))
    const idempotent = apiRetry.methods.has(request.method)
    let refreshed = false
    let retries = 0
    for (let retryCount = 0; ; retryCount++) {
      let response: Response
      try {
        response = await send(canReplay ? request.clone() : request, token, retryCount)
      } catch (error) {
        if (!canReplay || !idempotent || retries >= apiRetry.limit || signal.aborted || isAbort(error))
          throw error
        retries++
        await sleep(backoff(retries), signal)
        continue
      }
      // RFC 6750 §3.1: invalid_token means this token is no good (revoked, expired early) —
      // refresh once and retry once; any other 401 is the API's own answer. The request was
      // refused before anything was done, so even a POST may be sent again.
      if (
        response.status === 401 &&
        canReplay &&
        !refreshed &&
        /error="?invalid_token/.test(response.headers.get('www-authenticate') ?? '')
      ) {
        refreshed = true
        await response.body?.cancel()
        token = (await refresh('rejected', signal, token)).accessToken
        continue
      }
      if (canReplay && idempotent && retries < apiRetry.limit && apiRetry.statusCodes.has(response.status)) {
        const wait = retryAfterMs(response.headers.get('retry-after'), now())
        if (wait === undefined || wait <= apiRetry.maxRetryAfterMs) {
          retries++
          await response.body?.cancel()
          await sleep(wait ?? backoff(retries), signal)
          continue
        }
      }
      return response
    }
  }

  const client: TesseraClient = {
    async login(username, password, loginOptions = {}) {
      const started = ++generation
      const tokens = await tokenRequest(
        {
          grant_type: 'password',
          username,
          password,
          ...(loginOptions.scope ? { scope: loginOptions.scope } : {}),
        },
        false,
      )
      if (generation !== started) throw new NotSignedInError()
      return store(tokens)
    },

    fetch: apiFetch,

    refresh: (refreshOptions = {}) => refresh('requested', refreshOptions.signal),

    accessToken: (tokenOptions = {}) => accessToken(tokenOptions.signal),

    async logout() {
      generation++
      const tokens = await storage.get()
      try {
        const { revocation } = await discover()
        // RFC 7009: revoking the refresh token ends its whole session on a Tessera server,
        // and the session's access tokens are refused by the server from then on.
        if (revocation && (tokens?.refreshToken || cookieMode)) {
          const response = await http(revocation, {
            ...clientRequest(tokens?.refreshToken ? { token: tokens.refreshToken } : {}),
            signal: AbortSignal.timeout(LOGOUT_TIMEOUT_MS),
          })
          await response.body?.cancel()
        }
      } catch {
        // Signing out locally must not depend on the server being reachable.
      }
      await signOutLocally('logout')
    },

    on(event, listener) {
      listeners[event].add(listener)
      return () => listeners[event].delete(listener)
    },

    get signedIn() {
      return Promise.resolve(storage.get()).then((t) => t !== null)
    },

    close() {
      tabs.close()
    },
  }
  return client
}
