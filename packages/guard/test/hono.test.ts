import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHonoGuard, type GuardEnv } from '../src/hono.js'
import { createBasicAuth, createVerifier, hashBasicCredential } from '../src/index.js'
import { FakeIssuer } from './support/fake-issuer.js'

let issuer: FakeIssuer
let app: Hono<GuardEnv>

beforeAll(async () => {
  issuer = await FakeIssuer.start()
  issuer.introspection = (params) =>
    params.get('token') === 'tsk_live'
      ? { body: { active: true, token_type: 'api_key', scope: 'orders:read', sub: 'key-7' } }
      : { body: { active: false } }
  const verifier = createVerifier({
    issuer: issuer.url,
    audience: issuer.audience,
    introspection: { clientId: 'guard', clientSecret: 'secret' },
    permissions: { admin: ['users:write'] },
  })
  const guard = createHonoGuard({ verifier })
  const basic = createBasicAuth({ realm: 'ops', credentials: { ops: await hashBasicCredential('hunter2') } })
  app = new Hono<GuardEnv>()
  app.get('/orders', guard.requireAuth({ scopes: ['orders:read'], apiKeys: true }), (c) =>
    c.json({ sub: c.get('auth')?.sub, type: c.get('auth')?.type }),
  )
  app.get('/admin', guard.requireAuth(), guard.requireRole('admin'), (c) => c.json({ ok: true }))
  app.put('/users', guard.requirePermission('users:write'), (c) => c.json({ ok: true }))
  app.get('/write', guard.requireScope('orders:write'), (c) => c.json({ ok: true }))
  app.get('/internal', guard.requireBasic(basic), (c) => c.json({ sub: c.get('auth')?.sub }))
})
afterAll(() => issuer.close())

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('createHonoGuard', () => {
  it("makes the caller available as c.get('auth')", async () => {
    const response = await app.request('/orders', { headers: bearer(await issuer.mint({ sub: 'carol' })) })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ sub: 'carol', type: 'access_token' })
  })

  it('accepts a live api key and refuses a dead one', async () => {
    const live = await app.request('/orders', { headers: { 'x-api-key': 'tsk_live' } })
    expect(await live.json()).toEqual({ sub: 'key-7', type: 'api_key' })
    const dead = await app.request('/orders', { headers: { 'x-api-key': 'tsk_dead' } })
    expect(dead.status).toBe(401)
    expect(dead.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token"')
  })

  it('answers 401 without an error attribute when no credentials are sent', async () => {
    const response = await app.request('/orders')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"')
  })

  it('answers 403 insufficient_scope with the needed scope', async () => {
    const response = await app.request('/write', { headers: bearer(await issuer.mint()) })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="orders:write"',
    )
    expect(await response.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'The access token does not grant access to this resource',
    })
  })

  it('checks roles and permissions', async () => {
    expect((await app.request('/admin', { headers: bearer(await issuer.mint()) })).status).toBe(403)
    expect(
      (await app.request('/admin', { headers: bearer(await issuer.mint({ roles: ['admin'] })) })).status,
    ).toBe(200)
    const put = { method: 'PUT', headers: bearer(await issuer.mint({ roles: ['admin'] })) }
    expect((await app.request('/users', put)).status).toBe(200)
  })

  it('checks basic credentials', async () => {
    const wrong = await app.request('/internal', {
      headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="ops", charset="UTF-8"')
    const right = await app.request('/internal', {
      headers: { authorization: `Basic ${Buffer.from('ops:hunter2').toString('base64')}` },
    })
    expect(await right.json()).toEqual({ sub: 'ops' })
  })
})
