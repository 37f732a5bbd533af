import { NetworkError } from './errors/network-error.js'
import { NotSignedInError } from './errors/not-signed-in-error.js'
import { OAuthError } from './errors/oauth-error.js'
import { backoff, SingleFlight, withSignal } from './refresh.js'
import { memoryStorage, type TokenStorage, type Tokens } from './storage.js'
import {
  browserTabs,
  type ChannelLike,
  type LockManagerLike,
  TabCoordinator,
  type TabMessage,
} from './tabs.js'

export interface BeforeRequestState {
  request: Request
}
export interface AfterResponseState {
  request: Request
  response: Response
}
export interface BeforeRefreshState {
  tokens: Tokens | null
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
  hooks?: {
    beforeRequest?: ((state: BeforeRequestState) => void | Promise<void>)[]
    afterResponse?: ((state: AfterResponseState) => void | Promise<void>)[]
    beforeRefresh?: ((state: BeforeRefreshState) => void | Promise<void>)[]
  }
  fetch?: typeof fetch
  now?: () => number
  tokenEndpoint?: string
  revocationEndpoint?: string
  /** Cross-tab coordination; defaults to navigator.locks and BroadcastChannel in browsers. */
  tabs?: { locks?: LockManagerLike; channel?: ChannelLike } | false
}

export type LogoutReason = 'logout' | 'invalid_grant' | 'other_tab'
export interface ClientEvents {
  refreshed: (tokens: Tokens) => void
  logout: (event: { reason: LogoutReason }) => void
}

export interface TesseraClient {
  login(username: string, password: string, options?: { scope?: string }): Promise<Tokens>
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** Refreshes now (single flight), whatever the access token's age. */
  refresh(options?: { signal?: AbortSignal }): Promise<Tokens>
  /** A valid access token, refreshed first if it is about to expire. */
  accessToken(options?: { signal?: AbortSignal }): Promise<string>
  logout(): Promise<void>
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void
  readonly signedIn: Promise<boolean>
  close(): void
}

interface TokenResponse {
  access_token: string
  expires_in: number
  refresh_token?: string
  scope?: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')

// Bodies fetch can send twice; a stream is consumed by the first attempt.
function replayable(body: RequestInit['body']): boolean {
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
  const issuer = options.issuer.replace(/\/+$/, '')
  const http = options.fetch ?? globalThis.fetch.bind(globalThis)
  const now = options.now ?? Date.now
  const storage = options.storage ?? memoryStorage()
  const cookieMode = options.refreshTokenStorage === 'cookie'
  const retries = options.retries ?? 4
  const listeners: { [E in keyof ClientEvents]: Set<ClientEvents[E]> } = {
    refreshed: new Set(),
    logout: new Set(),
  }
  const flight = new SingleFlight<Tokens>()
  const tabName = `tessera:${issuer}:${options.clientId}`
  const tabApis =
    options.tabs === false
      ? { locks: undefined, channel: undefined }
      : { ...browserTabs(tabName), ...options.tabs }
  const tabs = new TabCoordinator(tabName, tabApis.locks, tabApis.channel, (message) => void adopt(message))
  let endpoints: Promise<{ token: string; revocation: string | undefined }> | undefined

  const emit = <E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>) => {
    for (const listener of listeners[event])
      (listener as (...a: Parameters<ClientEvents[E]>) => void)(...args)
  }

  async function adopt(message: TabMessage) {
    if (message.type === 'tokens') {
      await storage.set(message.tokens)
      emit('refreshed', message.tokens)
    } else {
      await storage.clear()
      emit('logout', { reason: 'other_tab' })
    }
  }

  function discover() {
    endpoints ??= (async () => {
      if (options.tokenEndpoint)
        return { token: options.tokenEndpoint, revocation: options.revocationEndpoint }
      const response = await http(`${issuer}/.well-known/oauth-authorization-server`)
      if (!response.ok) throw new NetworkError(`discovery failed with ${response.status}`, response.status)
      const meta = (await response.json()) as { token_endpoint: string; revocation_endpoint?: string }
      return {
        token: meta.token_endpoint,
        revocation: options.revocationEndpoint ?? meta.revocation_endpoint,
      }
    })().catch((error: unknown) => {
      endpoints = undefined
      throw error instanceof NetworkError
        ? error
        : new NetworkError('the token server cannot be reached', undefined, { cause: error })
    })
    return endpoints
  }

  function clientHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64'd.
    if (options.clientSecret !== undefined) {
      headers.authorization = `Basic ${btoa(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`)}`
    }
    if (cookieMode) headers['x-tessera-csrf'] = '1'
    return headers
  }

  /** One token-endpoint call, retried through outages; OAuth refusals are thrown at once. */
  async function tokenRequest(form: Record<string, string>): Promise<Tokens> {
    const { token: url } = await discover()
    const body = new URLSearchParams(
      options.clientSecret === undefined ? { client_id: options.clientId, ...form } : form,
    )
    let lastError: unknown
    for (let attempt = 0; attempt < retries; attempt++) {
      if (attempt > 0) await sleep(backoff(attempt))
      let response: Response
      try {
        response = await http(url, {
          method: 'POST',
          headers: clientHeaders(),
          body: body.toString(),
          ...(cookieMode ? { credentials: 'include' as const } : {}),
        })
      } catch (error) {
        // A response lost on the way back: presenting the same refresh token again is safe,
        // because the server's grace window answers a retry with the same successor.
        lastError = new NetworkError('the token server cannot be reached', undefined, { cause: error })
        continue
      }
      if (response.status === 429 || response.status >= 500) {
        const retryAfter = Number(response.headers.get('retry-after'))
        lastError = new NetworkError(`the token server answered ${response.status}`, response.status)
        if (Number.isFinite(retryAfter) && retryAfter > 0) await sleep(Math.min(retryAfter, 30) * 1000)
        continue
      }
      const json = (await response.json().catch(() => ({}))) as TokenResponse & {
        error?: string
        error_description?: string
      }
      if (!response.ok)
        throw new OAuthError(json.error ?? 'invalid_request', response.status, json.error_description)
      return {
        accessToken: json.access_token,
        expiresAt: now() + json.expires_in * 1000,
        scope: json.scope ?? '',
        ...(json.refresh_token ? { refreshToken: json.refresh_token } : {}),
      }
    }
    throw lastError
  }

  async function signOutLocally(reason: LogoutReason) {
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
    options.refreshSkewMs ?? Math.min(30_000, Math.max(5_000, (tokens.expiresAt - now()) / 10))
  const stale = (tokens: Tokens) => tokens.expiresAt - now() <= skew(tokens)

  function refresh(force: boolean, signal?: AbortSignal): Promise<Tokens> {
    const shared = flight.run(async () => {
      const before = await storage.get()
      if (!before) throw new NotSignedInError()
      for (const hook of options.hooks?.beforeRefresh ?? []) await hook({ tokens: before })
      return tabs.exclusive(async () => {
        // Another tab may have refreshed while this one waited for the lock: use its result
        // rather than present a refresh token that has just been rotated.
        const current = await storage.get()
        if (!current) throw new NotSignedInError()
        if (current.accessToken !== before.accessToken && !stale(current)) return current
        if (!force && !stale(current)) return current
        if (!cookieMode && !current.refreshToken) throw new NotSignedInError()
        try {
          const next = await tokenRequest(
            cookieMode
              ? { grant_type: 'refresh_token' }
              : { grant_type: 'refresh_token', refresh_token: current.refreshToken! },
          )
          return await store(next)
        } catch (error) {
          if (error instanceof OAuthError && error.error === 'invalid_grant')
            await signOutLocally('invalid_grant')
          throw error
        }
      })
    })
    return withSignal(shared, signal)
  }

  async function accessToken(signal?: AbortSignal): Promise<string> {
    const tokens = await storage.get()
    if (!tokens) throw new NotSignedInError()
    if (!stale(tokens)) return tokens.accessToken
    return (await refresh(false, signal)).accessToken
  }

  async function send(request: Request, token: string): Promise<Response> {
    const headers = new Headers(request.headers)
    headers.set('authorization', `Bearer ${token}`)
    const authorized = new Request(request, { headers })
    for (const hook of options.hooks?.beforeRequest ?? []) await hook({ request: authorized })
    const response = await http(authorized)
    for (const hook of options.hooks?.afterResponse ?? []) await hook({ request: authorized, response })
    return response
  }

  const client: TesseraClient = {
    async login(username, password, loginOptions = {}) {
      const tokens = await tokenRequest({
        grant_type: 'password',
        username,
        password,
        ...(loginOptions.scope ? { scope: loginOptions.scope } : {}),
      })
      return store(tokens)
    },

    async fetch(input, init = {}) {
      const token = await accessToken(init.signal ?? undefined)
      const request = new Request(input, init)
      const canRetry = replayable(init.body)
      const response = await send(canRetry ? request.clone() : request, token)
      // RFC 6750 §3.1: invalid_token means this token is no good (revoked, expired early) —
      // refresh once and retry once; any other 401 is the API's own answer.
      if (
        response.status === 401 &&
        canRetry &&
        /error="?invalid_token/.test(response.headers.get('www-authenticate') ?? '')
      ) {
        const fresh = await refresh(true, init.signal ?? undefined)
        return send(new Request(input, init), fresh.accessToken)
      }
      return response
    },

    refresh: (refreshOptions = {}) => refresh(true, refreshOptions.signal),

    accessToken: (tokenOptions = {}) => accessToken(tokenOptions.signal),

    async logout() {
      const tokens = await storage.get()
      try {
        const { revocation } = await discover()
        if (revocation && (tokens?.refreshToken || cookieMode)) {
          await http(revocation, {
            method: 'POST',
            headers: clientHeaders(),
            body: new URLSearchParams({
              ...(options.clientSecret === undefined ? { client_id: options.clientId } : {}),
              ...(tokens?.refreshToken ? { token: tokens.refreshToken } : {}),
            }).toString(),
            ...(cookieMode ? { credentials: 'include' as const } : {}),
          })
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
