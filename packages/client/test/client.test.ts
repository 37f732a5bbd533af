import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createClient,
  isDiscoveryError,
  isNetworkError,
  isNotSignedInError,
  isOAuthError,
  memoryStorage,
  type TesseraClient,
} from '../src/index.js'
import { countingFetch, metadata, PASSWORD, startFake, startServer } from './server.js'

type Server = Awaited<ReturnType<typeof startServer>>

describe('@tessera/client against a real server', () => {
  let server: Server
  let client: TesseraClient
  beforeEach(async () => {
    server = await startServer()
  })
  afterEach(async () => {
    client?.close()
    await server.close()
  })

  it('signs in and calls a protected API with the bearer token', async () => {
    client = createClient({ issuer: server.url, clientId: 'web', tabs: false })
    const tokens = await client.login('alice', PASSWORD)
    expect(tokens.refreshToken).toMatch(/^tsr_/)
    const me = await client.fetch(`${server.url}/me`)
    expect(me.status).toBe(200)
    expect(((await me.json()) as { username: string }).username).toBe('alice')
    expect(await client.signedIn).toBe(true)
  })

  it('a confidential client authenticates with HTTP Basic', async () => {
    client = createClient({
      issuer: server.url,
      clientId: 'svc',
      clientSecret: 'a-service-secret-of-24ch',
      tabs: false,
    })
    await client.login('alice', PASSWORD)
    expect((await client.fetch(`${server.url}/me`)).status).toBe(200)
  })

  it('100 concurrent calls with an expired access token cause exactly one refresh', async () => {
    const counter = countingFetch()
    let skew = 0
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      fetch: counter.fetch,
      now: () => Date.now() + skew,
      tabs: false,
    })
    await client.login('alice', PASSWORD)
    skew = 61_000
    const responses = await Promise.all(Array.from({ length: 100 }, () => client.fetch(`${server.url}/me`)))
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200))
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('a 401 invalid_token from the API triggers one refresh and one retry', async () => {
    const counter = countingFetch()
    client = createClient({ issuer: server.url, clientId: 'web', fetch: counter.fetch, tabs: false })
    await client.login('alice', PASSWORD)
    server.advance(70) // past the 60 s lifetime and the server's 5 s clock tolerance
    const me = await client.fetch(`${server.url}/me`)
    expect(me.status).toBe(200)
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('a response lost mid-refresh is recovered through the grace retry without logout', async () => {
    let lost = false
    const counter = countingFetch(async (grant, call) => {
      const response = await call()
      if (grant === 'refresh_token' && !lost) {
        lost = true
        throw new TypeError('network connection lost') // the server rotated; the answer never arrived
      }
      return response
    })
    const logouts: string[] = []
    client = createClient({ issuer: server.url, clientId: 'web', fetch: counter.fetch, tabs: false })
    client.on('logout', (event) => logouts.push(event.reason))
    const first = await client.login('alice', PASSWORD)
    const next = await client.refresh()
    expect(lost).toBe(true)
    expect(counter.counts.refresh_token).toBe(2)
    expect(next.refreshToken).not.toBe(first.refreshToken)
    expect((await client.fetch(`${server.url}/me`)).status).toBe(200)
    expect((await client.refresh()).refreshToken).toMatch(/^tsr_/)
    expect(logouts).toEqual([])
  })

  it('a reused (stolen) refresh token still kills the session, and the honest client is told', async () => {
    const logouts: string[] = []
    client = createClient({ issuer: server.url, clientId: 'web', tabs: false })
    client.on('logout', (event) => logouts.push(event.reason))
    const stolen = (await client.login('alice', PASSWORD)).refreshToken!
    await client.refresh()
    server.advance(11)
    const thief = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'web', refresh_token: stolen }),
    })
    expect(thief.status).toBe(400)
    expect(((await thief.json()) as { error: string }).error).toBe('invalid_grant')
    const error = await client.refresh().catch((e: unknown) => e)
    expect(isOAuthError(error) && error.error).toBe('invalid_grant')
    expect(logouts).toEqual(['invalid_grant'])
    expect(await client.signedIn).toBe(false)
    expect(isNotSignedInError(await client.fetch(`${server.url}/me`).catch((e: unknown) => e))).toBe(true)
  })

  it('a 503 from the token server is retried and is never a logout', async () => {
    let failures = 2
    const counter = countingFetch(async (grant, call) => {
      if (grant === 'refresh_token' && failures-- > 0) {
        return new Response(JSON.stringify({ error: 'temporarily_unavailable' }), {
          status: 503,
          headers: { 'retry-after': '0' },
        })
      }
      return call()
    })
    const logouts: string[] = []
    client = createClient({ issuer: server.url, clientId: 'web', fetch: counter.fetch, tabs: false })
    client.on('logout', (event) => logouts.push(event.reason))
    await client.login('alice', PASSWORD)
    await client.refresh()
    expect(counter.counts.refresh_token).toBe(3)
    expect(logouts).toEqual([])
  })

  it('an outage longer than the retries surfaces as a NetworkError and keeps the session', async () => {
    const counter = countingFetch(async (grant, call) =>
      grant === 'refresh_token' ? Promise.reject(new TypeError('down')) : call(),
    )
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      fetch: counter.fetch,
      retries: 2,
      tabs: false,
    })
    await client.login('alice', PASSWORD)
    const error = await client.refresh().catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect(await client.signedIn).toBe(true)
  })

  it('aborting one caller does not cancel the refresh the others wait on', async () => {
    let skew = 0
    const counter = countingFetch()
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      fetch: counter.fetch,
      now: () => Date.now() + skew,
      tabs: false,
    })
    await client.login('alice', PASSWORD)
    skew = 61_000
    const controller = new AbortController()
    const aborted = client.fetch(`${server.url}/me`, { signal: controller.signal })
    const other = client.fetch(`${server.url}/me`)
    controller.abort(new Error('user navigated away'))
    await expect(aborted).rejects.toThrow('user navigated away')
    expect((await other).status).toBe(200)
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('logout ends the session on the server, clears state and emits logout', async () => {
    const storage = memoryStorage()
    const logouts: string[] = []
    client = createClient({ issuer: server.url, clientId: 'web', storage, tabs: false })
    client.on('logout', (event) => logouts.push(event.reason))
    const tokens = await client.login('alice', PASSWORD)
    await client.logout()
    expect(storage.get()).toBeNull()
    expect(logouts).toEqual(['logout'])
    const after = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'web',
        refresh_token: tokens.refreshToken!,
      }),
    })
    expect(after.status).toBe(400)
  })

  it('logout clears local state even when the server cannot be reached', async () => {
    client = createClient({ issuer: server.url, clientId: 'web', tabs: false })
    await client.login('alice', PASSWORD)
    await server.close()
    await client.logout()
    expect(await client.signedIn).toBe(false)
    server = await startServer()
  })

  it('hooks see each request and response, and the refresh', async () => {
    const seen: string[] = []
    let skew = 0
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      now: () => Date.now() + skew,
      tabs: false,
      hooks: {
        beforeRequest: [
          ({ request }) => request.headers.set('x-request-id', 'r-1'),
          ({ request, retryCount }) => {
            seen.push(
              `request ${new URL(request.url).pathname} ${request.headers.get('x-request-id')} ${retryCount}`,
            )
          },
        ],
        afterResponse: [({ response }) => void seen.push(`response ${response.status}`)],
        beforeRefresh: [({ reason }) => void seen.push(`refresh ${reason}`)],
      },
    })
    await client.login('alice', PASSWORD)
    skew = 61_000
    await client.fetch(`${server.url}/me`)
    expect(seen).toEqual(['refresh expiring', 'request /me r-1 0', 'response 200'])
  })

  it('a beforeRequest hook can answer without the network, and afterResponse can replace the answer', async () => {
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      tabs: false,
      hooks: {
        beforeRequest: [
          ({ request }) => (request.url.endsWith('/cached') ? new Response('from cache') : undefined),
        ],
        afterResponse: [({ response }) => (response.status === 200 ? new Response('replaced') : undefined)],
      },
    })
    await client.login('alice', PASSWORD)
    expect(await (await client.fetch(`${server.url}/cached`)).text()).toBe('replaced')
    expect(await (await client.fetch(`${server.url}/me`)).text()).toBe('replaced')
  })

  it('misuse of the options is a TypeError', () => {
    expect(() => createClient({} as never)).toThrow(TypeError)
    expect(() => createClient({ issuer: 'not a url', clientId: 'web' })).toThrow(TypeError)
    expect(() =>
      createClient({ issuer: server.url, clientId: 'web', refreshTokenStorage: 'session' as never }),
    ).toThrow(TypeError)
    expect(() => createClient({ issuer: server.url, clientId: 'web', retries: 0 })).toThrow(TypeError)
  })

  it('refreshes proactively a tenth of the lifetime before expiry, at most 30 s', async () => {
    await server.close()
    server = await startServer({ accessTokenTtl: 300 })
    const counter = countingFetch()
    let skew = 0
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      fetch: counter.fetch,
      now: () => Date.now() + skew,
      tabs: false,
    })
    await client.login('alice', PASSWORD)
    skew = 265_000 // 35 s left
    await client.fetch(`${server.url}/me`)
    expect(counter.counts.refresh_token).toBeUndefined()
    skew = 275_000 // 25 s left, inside the 30 s skew
    await client.fetch(`${server.url}/me`)
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('refreshSkewMs sets how early the token is refreshed', async () => {
    const counter = countingFetch()
    let skew = 0
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      fetch: counter.fetch,
      now: () => Date.now() + skew,
      refreshSkewMs: 40_000,
      tabs: false,
    })
    await client.login('alice', PASSWORD)
    skew = 15_000
    await client.accessToken()
    expect(counter.counts.refresh_token).toBeUndefined()
    skew = 25_000 // 35 s of 60 left
    await client.accessToken()
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('100 concurrent calls whose token the api refuses cause exactly one refresh', async () => {
    const counter = countingFetch()
    client = createClient({ issuer: server.url, clientId: 'web', fetch: counter.fetch, tabs: false })
    await client.login('alice', PASSWORD)
    server.advance(70) // the client's clock says fresh; the server's says expired
    const responses = await Promise.all(Array.from({ length: 100 }, () => client.fetch(`${server.url}/me`)))
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200))
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('invalid_grant clears the stored tokens and emits logout once', async () => {
    const storage = memoryStorage()
    const logouts: string[] = []
    client = createClient({ issuer: server.url, clientId: 'web', storage, tabs: false })
    client.on('logout', (event) => logouts.push(event.reason))
    const tokens = await client.login('alice', PASSWORD)
    const revoked = await fetch(`${server.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refreshToken!, client_id: 'web' }),
    })
    expect(revoked.status).toBe(200)
    const errors = await Promise.all(
      [client.refresh(), client.refresh()].map((p) => p.catch((e: unknown) => e)),
    )
    expect(errors.every((e) => isOAuthError(e) && e.error === 'invalid_grant')).toBe(true)
    expect(storage.get()).toBeNull()
    expect(logouts).toEqual(['invalid_grant'])
  })

  it('a 401 invalid_token is not retried when the request body cannot be sent again', async () => {
    const counter = countingFetch()
    const api: string[] = []
    const withApi: typeof fetch = async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init)
      if (new URL(request.url).pathname !== '/api/orders') return counter.fetch(input, init)
      api.push(await request.text())
      return new Response(null, {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      })
    }
    client = createClient({ issuer: server.url, clientId: 'web', fetch: withApi, tabs: false })
    await client.login('alice', PASSWORD)
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"item":1}'))
        controller.close()
      },
    })
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit
    expect((await client.fetch(`${server.url}/api/orders`, init)).status).toBe(401)
    expect(api).toEqual(['{"item":1}'])
    expect(counter.counts.refresh_token).toBeUndefined()
    expect(
      (await client.fetch(`${server.url}/api/orders`, { method: 'POST', body: '{"item":2}' })).status,
    ).toBe(401)
    expect(api).toEqual(['{"item":1}', '{"item":2}', '{"item":2}'])
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('idempotent api requests are retried through a 503 with Retry-After; a POST is not', async () => {
    const calls: string[] = []
    const flaky: typeof fetch = async (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init)
      if (new URL(request.url).pathname === '/me') {
        calls.push(request.method)
        if (calls.length % 2 === 1)
          return new Response('{"error":"temporarily_unavailable"}', {
            status: 503,
            headers: { 'retry-after': '0' },
          })
      }
      return fetch(input, init)
    }
    client = createClient({ issuer: server.url, clientId: 'web', fetch: flaky, tabs: false })
    await client.login('alice', PASSWORD)
    expect((await client.fetch(`${server.url}/me`)).status).toBe(200)
    expect(calls).toEqual(['GET', 'GET'])
    calls.length = 0
    expect((await client.fetch(`${server.url}/me`, { method: 'POST', body: '{}' })).status).toBe(503)
    expect(calls).toEqual(['POST'])
  })

  it('a login is not retried after a network error, since it is not idempotent', async () => {
    const counter = countingFetch(async () => Promise.reject(new TypeError('connection reset')))
    client = createClient({ issuer: server.url, clientId: 'web', fetch: counter.fetch, tabs: false })
    const error = await client.login('alice', PASSWORD).catch((e: unknown) => e)
    expect(isNetworkError(error)).toBe(true)
    expect(counter.counts.password).toBe(1)
  })

  it('a logout while a refresh is in flight stays a logout', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const counter = countingFetch(async (grant, call) => {
      if (grant === 'refresh_token') await held
      return call()
    })
    client = createClient({ issuer: server.url, clientId: 'web', fetch: counter.fetch, tabs: false })
    await client.login('alice', PASSWORD)
    const refreshing = client.refresh().catch((e: unknown) => e)
    await expect.poll(() => counter.counts.refresh_token).toBe(1)
    await client.logout()
    release()
    expect(isNotSignedInError(await refreshing)).toBe(true)
    expect(await client.signedIn).toBe(false)
  })

  it('a throwing listener does not break the refresh others wait on', async () => {
    client = createClient({ issuer: server.url, clientId: 'web', tabs: false })
    await client.login('alice', PASSWORD)
    client.on('refreshed', () => {
      throw new Error('app bug')
    })
    const reported: unknown[] = []
    const original = globalThis.reportError
    globalThis.reportError = (error: unknown) => void reported.push(error)
    try {
      expect((await client.refresh()).refreshToken).toMatch(/^tsr_/)
    } finally {
      globalThis.reportError = original
    }
    expect(reported).toHaveLength(1)
  })
})

describe('@tessera/client against servers that are not Tessera', () => {
  it('metadata naming another issuer is refused before any password is sent (RFC 8414 §3.3)', async () => {
    const fake = await startFake((request, base) =>
      request.url.startsWith('/.well-known/')
        ? { json: { ...metadata(base), issuer: 'https://elsewhere.example' } }
        : { status: 500 },
    )
    try {
      const client = createClient({ issuer: fake.url, clientId: 'web', tabs: false })
      const error = await client.login('alice', PASSWORD).catch((e: unknown) => e)
      expect(isDiscoveryError(error)).toBe(true)
      expect(fake.requests.map((r) => r.url)).toEqual(['/.well-known/oauth-authorization-server'])
    } finally {
      await fake.close()
    }
  })

  it('a refresh answered without a new refresh token keeps the old one (RFC 6749 §6)', async () => {
    let issued = 0
    const fake = await startFake((request, base) => {
      if (request.url.startsWith('/.well-known/')) return { json: metadata(base) }
      issued++
      const form = new URLSearchParams(request.body)
      return {
        json: {
          access_token: `at-${issued}`,
          token_type: 'Bearer',
          expires_in: 60,
          scope: 'read',
          ...(form.get('grant_type') === 'password' ? { refresh_token: 'tsr_kept' } : {}),
        },
      }
    })
    try {
      const client = createClient({ issuer: fake.url, clientId: 'web', tabs: false })
      await client.login('alice', PASSWORD)
      expect(await client.refresh()).toMatchObject({ accessToken: 'at-2', refreshToken: 'tsr_kept' })
      expect(await client.refresh()).toMatchObject({ accessToken: 'at-3', refreshToken: 'tsr_kept' })
      const presented = fake.requests.slice(2).map((r) => new URLSearchParams(r.body).get('refresh_token'))
      expect(presented).toEqual(['tsr_kept', 'tsr_kept'])
    } finally {
      await fake.close()
    }
  })

  it('a 429 whose Retry-After is too long is not waited out: the refresh fails and the session stays', async () => {
    const fake = await startFake((request, base) => {
      if (request.url.startsWith('/.well-known/')) return { json: metadata(base) }
      if (new URLSearchParams(request.body).get('grant_type') === 'password')
        return { json: { access_token: 'at', expires_in: 60, refresh_token: 'tsr_1', scope: '' } }
      return {
        status: 429,
        headers: { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' },
        json: { error: 'slow_down' },
      }
    })
    try {
      const client = createClient({ issuer: fake.url, clientId: 'web', tabs: false })
      await client.login('alice', PASSWORD)
      const error = await client.refresh().catch((e: unknown) => e)
      expect(isNetworkError(error) && error.status).toBe(429)
      expect(isNetworkError(error) && error.retryAfterMs).toBeGreaterThan(1e9)
      expect(fake.requests).toHaveLength(3)
      expect(await client.signedIn).toBe(true)
    } finally {
      await fake.close()
    }
  })
})
