import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createClient,
  isNetworkError,
  isNotSignedInError,
  isOAuthError,
  memoryStorage,
  type TesseraClient,
} from '../src/index.js'
import { countingFetch, PASSWORD, startServer } from './server.js'

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
        beforeRequest: [({ request }) => void seen.push(`request ${new URL(request.url).pathname}`)],
        afterResponse: [({ response }) => void seen.push(`response ${response.status}`)],
        beforeRefresh: [() => void seen.push('refresh')],
      },
    })
    await client.login('alice', PASSWORD)
    skew = 61_000
    await client.fetch(`${server.url}/me`)
    expect(seen).toEqual(['refresh', 'request /me', 'response 200'])
  })

  it('misuse of the options is a TypeError', () => {
    expect(() => createClient({} as never)).toThrow(TypeError)
  })
})
