import { createClient } from '@tessera/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenFetch } from '../../support/listen.js'
import {
  basicAuthorization,
  DEMO,
  login,
  requestToken,
  startTessera,
  type Tessera,
} from '../../support/tessera.js'
import { buildRefreshDemo } from '../app.js'

let tessera: Tessera
let app: Listening

beforeAll(async () => {
  tessera = await startTessera()
  app = await listenFetch(buildRefreshDemo({ issuer: tessera.url, now: tessera.clock.now }).fetch)
})

afterAll(async () => {
  await app?.close()
  await tessera?.close()
})

const refresh = (refreshToken: string, clientId: string = DEMO.publicClient) =>
  requestToken(tessera.url, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken })

async function introspect(token: string): Promise<{ active: boolean }> {
  const response = await fetch(`${tessera.url}/oauth/introspect`, {
    method: 'POST',
    headers: {
      authorization: basicAuthorization(DEMO.serviceClient, DEMO.serviceSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  })
  return response.json() as Promise<{ active: boolean }>
}

describe('token refresh with rotation', () => {
  it('a refresh returns a new access token and a new refresh token', async () => {
    const tokens = await login(tessera.url)
    tessera.clock.advance(1)
    const rotated = await refresh(tokens.refresh_token)
    expect(rotated.status).toBe(200)
    expect(rotated.body.refresh_token).toMatch(/^tsr_/)
    expect(rotated.body.refresh_token).not.toBe(tokens.refresh_token)
    expect(rotated.body.access_token).not.toBe(tokens.access_token)
  })

  it('a retry within the grace window gets the very same successor, not a second branch', async () => {
    const tokens = await login(tessera.url)
    const first = await refresh(tokens.refresh_token)
    tessera.clock.advance(tessera.config.refreshReuseGrace - 1)
    const retry = await refresh(tokens.refresh_token)
    expect(retry.status).toBe(200)
    expect(retry.body.refresh_token).toBe(first.body.refresh_token)
  })

  it('parallel refreshes with one token all land on the same successor', async () => {
    const tokens = await login(tessera.url)
    const answers = await Promise.all(Array.from({ length: 5 }, () => refresh(tokens.refresh_token)))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200])
    expect(new Set(answers.map((answer) => answer.body.refresh_token)).size).toBe(1)
  })

  it('a retry within grace after the session moved on gets the current token', async () => {
    const tokens = await login(tessera.url)
    const second = await refresh(tokens.refresh_token)
    const third = await refresh(String(second.body.refresh_token))
    const retry = await refresh(tokens.refresh_token)
    expect(retry.status).toBe(200)
    expect(retry.body.refresh_token).toBe(third.body.refresh_token)
  })

  it('reusing a rotated token after the grace window kills the whole session', async () => {
    const tokens = await login(tessera.url)
    const successor = await refresh(tokens.refresh_token)
    expect(successor.status).toBe(200)
    tessera.clock.advance(tessera.config.refreshReuseGrace + 1)

    const reuse = await refresh(tokens.refresh_token)
    expect(reuse.status).toBe(400)
    expect(reuse.body.error).toBe('invalid_grant')

    const victim = await refresh(String(successor.body.refresh_token))
    expect(victim.status).toBe(400)
    expect(victim.body.error).toBe('invalid_grant')
    expect(await introspect(String(successor.body.access_token))).toEqual({ active: false })
    const me = await fetch(`${tessera.url}/me`, {
      headers: { authorization: `Bearer ${successor.body.access_token}` },
    })
    expect(me.status).toBe(401)
  })

  it('a reuse is recorded in the audit log', async () => {
    const events = await tessera.admin.store.listAudit({ type: 'refresh_reuse_detected' })
    expect(events.length).toBeGreaterThan(0)
  })

  it('a refresh token presented by another client is invalid_grant', async () => {
    await createClient(tessera.admin, {
      id: 'other-app',
      isPublic: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['read'],
      redirectUris: [],
    })
    const tokens = await login(tessera.url)
    const stolen = await refresh(tokens.refresh_token, 'other-app')
    expect(stolen.status).toBe(400)
    expect(stolen.body.error).toBe('invalid_grant')
    expect((await refresh(tokens.refresh_token)).status).toBe(200)
  })

  it('a session unused for longer than the idle lifetime cannot be refreshed', async () => {
    const tokens = await login(tessera.url)
    tessera.clock.advance(tessera.config.refreshIdleTtl + 1)
    const answer = await refresh(tokens.refresh_token)
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_grant')
  })
})

describe('the refresh demo page and its app', () => {
  it('serves the page with a policy that forbids inline script', async () => {
    const response = await fetch(`${app.url}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
    const html = await response.text()
    expect(html).toContain('<script type="module" src="/refresh.js"></script>')
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
  })

  it('serves the page script as javascript', async () => {
    const response = await fetch(`${app.url}/refresh.js`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/javascript')
  })

  it('serves the browser build of @tessera/client, and nothing else from that folder', async () => {
    const module = await fetch(`${app.url}/vendor/tessera-client/index.js`)
    expect(module.status).toBe(200)
    expect(module.headers.get('content-type')).toContain('text/javascript')
    expect(await module.text()).toContain('createClient')
    expect((await fetch(`${app.url}/vendor/tessera-client/..%2Fpackage.json`)).status).toBe(404)
    expect((await fetch(`${app.url}/vendor/tessera-client/index.d.ts`)).status).toBe(404)
  })

  it('signs in, refreshes and calls the api through the same origin as the page', async () => {
    const post = (path: string, form: Record<string, string>) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      })
    const signIn = await post('/auth/token', {
      grant_type: 'password',
      client_id: DEMO.publicClient,
      username: DEMO.username,
      password: DEMO.password,
    })
    expect(signIn.status).toBe(200)
    expect(signIn.headers.get('cache-control')).toBe('no-store')
    const tokens = (await signIn.json()) as { access_token: string; refresh_token: string }
    const refreshed = await post('/auth/token', {
      grant_type: 'refresh_token',
      client_id: DEMO.publicClient,
      refresh_token: tokens.refresh_token,
    })
    const { access_token } = (await refreshed.json()) as { access_token: string }
    const profile = await fetch(`${app.url}/api/profile`, {
      headers: { authorization: `Bearer ${access_token}` },
    })
    expect(profile.status).toBe(200)

    const revoked = await post('/auth/revoke', { client_id: DEMO.publicClient, token: tokens.refresh_token })
    expect(revoked.status).toBe(200)
  })
})
