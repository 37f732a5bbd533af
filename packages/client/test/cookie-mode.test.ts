import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient, memoryStorage, type TesseraClient } from '../src/index.js'
import { metadata, PASSWORD, startFake, startServer } from './server.js'

/** What a browser adds on its own: the cookie jar and the Origin header. */
function browserLikeFetch(origin: string) {
  const jar = new Map<string, string>()
  const sent: { body: string; headers: Headers; credentials?: RequestCredentials }[] = []
  const wrapped: typeof fetch = async (input, init = {}) => {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined))
    if (init.credentials === 'include' && jar.size)
      headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '))
    headers.set('origin', origin)
    if (init.body)
      sent.push({
        body: String(init.body),
        headers,
        ...(init.credentials ? { credentials: init.credentials } : {}),
      })
    const response = await fetch(input instanceof Request ? input.url : input, { ...init, headers })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const [name, ...value] = pair!.split('=')
      if (/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name!)
      else jar.set(name!, value.join('='))
    }
    return response
  }
  return { fetch: wrapped, jar, sent }
}

describe('cookie mode', () => {
  let server: Awaited<ReturnType<typeof startServer>>
  let client: TesseraClient
  beforeEach(async () => {
    server = await startServer()
  })
  afterEach(async () => {
    client?.close()
    await server.close()
  })

  it('never holds a refresh token: the server keeps it in an HttpOnly cookie, and refresh and logout use it', async () => {
    const browser = browserLikeFetch(server.url)
    client = createClient({
      issuer: server.url,
      clientId: 'web',
      refreshTokenStorage: 'cookie',
      fetch: browser.fetch,
      tabs: false,
    })
    const tokens = await client.login('alice', PASSWORD)
    expect(tokens.refreshToken).toBeUndefined()
    expect(browser.jar.get('tessera_rt')).toMatch(/^tsr_/)
    const first = browser.jar.get('tessera_rt')
    const refreshed = await client.refresh()
    expect(refreshed.refreshToken).toBeUndefined()
    expect(browser.jar.get('tessera_rt')).not.toBe(first)
    const refreshCall = browser.sent.find((s) => s.body.includes('grant_type=refresh_token'))!
    expect(refreshCall.body).not.toContain('refresh_token=')
    expect(refreshCall.headers.get('x-tessera-csrf')).toBe('1')
    expect(refreshCall.credentials).toBe('include')
    await client.logout()
    expect(browser.jar.has('tessera_rt')).toBe(false)
  })
})

describe('cookie mode on the wire', () => {
  it('token and revocation requests carry credentials and the CSRF header, and never a refresh token', async () => {
    let issued = 0
    const fake = await startFake((request, base) => {
      if (request.url.startsWith('/.well-known/')) return { json: metadata(base) }
      if (request.url === '/oauth/revoke') return { json: {} }
      issued++
      // A server that wrongly echoes a refresh token: the client must still not keep it.
      return {
        json: { access_token: `at-${issued}`, expires_in: 60, refresh_token: 'tsr_leak', scope: 'read' },
      }
    })
    const credentials: (RequestCredentials | undefined)[] = []
    const storage = memoryStorage()
    const client = createClient({
      issuer: fake.url,
      clientId: 'web',
      refreshTokenStorage: 'cookie',
      storage,
      tabs: false,
      fetch: (input, init) => {
        if (init?.method === 'POST') credentials.push(init.credentials)
        return fetch(input, init)
      },
    })
    try {
      await client.login('alice', PASSWORD)
      expect(storage.get()?.refreshToken).toBeUndefined()
      await client.refresh()
      expect(storage.get()).toMatchObject({ accessToken: 'at-2' })
      expect(storage.get()?.refreshToken).toBeUndefined()
      await client.logout()

      const posts = fake.requests.filter((r) => r.method === 'POST')
      expect(posts.map((r) => r.url)).toEqual(['/oauth/token', '/oauth/token', '/oauth/revoke'])
      for (const post of posts) {
        expect(post.headers['x-tessera-csrf']).toBe('1')
        expect(post.headers['content-type']).toBe('application/x-www-form-urlencoded')
        expect(post.headers.authorization).toBeUndefined()
      }
      expect(credentials).toEqual(['include', 'include', 'include'])
      const [login, refresh, revoke] = posts.map((r) => Object.fromEntries(new URLSearchParams(r.body)))
      expect(login).toMatchObject({ grant_type: 'password', client_id: 'web', username: 'alice' })
      expect(refresh).toEqual({ client_id: 'web', grant_type: 'refresh_token' })
      expect(revoke).toEqual({ client_id: 'web' })
    } finally {
      await fake.close()
    }
  })

  it('a client secret in cookie mode is refused as misuse', () => {
    expect(() =>
      createClient({
        issuer: 'https://auth.example.com',
        clientId: 'web',
        clientSecret: 's',
        refreshTokenStorage: 'cookie',
      }),
    ).toThrow(TypeError)
  })
})
