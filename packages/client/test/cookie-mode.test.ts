import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient, type TesseraClient } from '../src/index.js'
import { PASSWORD, startServer } from './server.js'

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
