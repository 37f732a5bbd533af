import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/admin.js'
import { PASSWORD, startTestServer, type TestServer } from '../support/server.js'

const APP_ORIGIN = 'http://127.0.0.1:5173'

describe('cookie mode: the refresh token never reaches JavaScript', () => {
  let server: TestServer
  beforeEach(async () => {
    server = await startTestServer()
    await createClient(server.admin, {
      id: 'spa',
      isPublic: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['read'],
      redirectUris: [`${APP_ORIGIN}/callback`],
    })
  })
  afterEach(async () => {
    await server.close()
  })

  const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(form).toString(),
    })

  const cookieOf = (setCookie: string | string[] | undefined) => {
    const line = ([] as string[]).concat(setCookie ?? []).find((l) => l.startsWith('tessera_rt='))
    return { line, value: line?.split(';')[0]?.slice('tessera_rt='.length) }
  }

  async function signIn() {
    const res = await token(
      { grant_type: 'password', client_id: 'spa', username: 'alice', password: PASSWORD },
      { 'x-tessera-csrf': '1', origin: APP_ORIGIN },
    )
    expect(res.statusCode).toBe(200)
    return res
  }

  it('sign-in sets an HttpOnly SameSite=Strict cookie and leaves the refresh token out of the body', async () => {
    const res = await signIn()
    expect(res.json().refresh_token).toBeUndefined()
    const { line, value } = cookieOf(res.headers['set-cookie'])
    expect(value).toMatch(/^tsr_/)
    expect(line).toMatch(/HttpOnly/)
    expect(line).toMatch(/SameSite=Strict/)
    expect(line).toMatch(/Path=\/oauth/)
  })

  it('a refresh with the cookie, the header and an allowed Origin rotates the cookie', async () => {
    const first = cookieOf((await signIn()).headers['set-cookie']).value!
    const res = await token(
      { grant_type: 'refresh_token', client_id: 'spa' },
      { cookie: `tessera_rt=${first}`, 'x-tessera-csrf': '1', origin: APP_ORIGIN },
    )
    expect(res.statusCode).toBe(200)
    expect(res.json().refresh_token).toBeUndefined()
    const next = cookieOf(res.headers['set-cookie']).value
    expect(next).toMatch(/^tsr_/)
    expect(next).not.toBe(first)
  })

  it('a cookie refresh without the CSRF header or from another origin is refused', async () => {
    const first = cookieOf((await signIn()).headers['set-cookie']).value!
    const noHeader = await token(
      { grant_type: 'refresh_token', client_id: 'spa' },
      { cookie: `tessera_rt=${first}`, origin: APP_ORIGIN },
    )
    expect(noHeader.statusCode).toBe(400)
    expect(noHeader.json().error).toBe('invalid_request')
    const otherOrigin = await token(
      { grant_type: 'refresh_token', client_id: 'spa' },
      { cookie: `tessera_rt=${first}`, 'x-tessera-csrf': '1', origin: 'https://evil.example' },
    )
    expect(otherOrigin.statusCode).toBe(400)
    const noOrigin = await token(
      { grant_type: 'refresh_token', client_id: 'spa' },
      { cookie: `tessera_rt=${first}`, 'x-tessera-csrf': '1' },
    )
    expect(noOrigin.statusCode).toBe(400)
    const stillGood = await token(
      { grant_type: 'refresh_token', client_id: 'spa' },
      { cookie: `tessera_rt=${first}`, 'x-tessera-csrf': '1', origin: APP_ORIGIN },
    )
    expect(stillGood.statusCode).toBe(200)
  })

  it('revoking with the cookie ends the session and clears the cookie', async () => {
    const first = cookieOf((await signIn()).headers['set-cookie']).value!
    const res = await server.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `tessera_rt=${first}`,
        'x-tessera-csrf': '1',
        origin: APP_ORIGIN,
      },
      payload: 'client_id=spa',
    })
    expect(res.statusCode).toBe(200)
    expect(cookieOf(res.headers['set-cookie']).line).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/)
    const after = await token({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first })
    expect(after.json().error).toBe('invalid_grant')
  })

  it('CORS lets in registered app origins with credentials and nobody else', async () => {
    const preflight = (origin: string) =>
      server.app.inject({
        method: 'OPTIONS',
        url: '/oauth/token',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-tessera-csrf',
        },
      })
    const allowed = await preflight(APP_ORIGIN)
    expect(allowed.headers['access-control-allow-origin']).toBe(APP_ORIGIN)
    expect(allowed.headers['access-control-allow-credentials']).toBe('true')
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('x-tessera-csrf')
    const denied = await preflight('https://evil.example')
    expect(denied.headers['access-control-allow-origin']).toBeUndefined()
  })
})
