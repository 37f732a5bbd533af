import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExpressGuard } from '../src/express.js'
import { createBasicAuth, createVerifier, hashBasicCredential } from '../src/index.js'
import { FakeIssuer } from './support/fake-issuer.js'

let issuer: FakeIssuer
let server: Server
let base: string

beforeAll(async () => {
  issuer = await FakeIssuer.start()
  const verifier = createVerifier({
    issuer: issuer.url,
    audience: issuer.audience,
    permissions: { admin: ['users:write'] },
  })
  const guard = createExpressGuard({ verifier, realm: 'orders' })
  const basic = createBasicAuth({ credentials: { ops: await hashBasicCredential('hunter2') } })
  const app = express()
  app.get('/orders', guard.requireAuth({ scopes: ['orders:read'] }), (req, res) => {
    res.json({ sub: req.auth?.sub, scopes: req.auth?.scopes })
  })
  app.get('/admin', guard.requireAuth(), guard.requireRole('admin'), (_req, res) => {
    res.json({ ok: true })
  })
  app.put('/users', guard.requirePermission('users:write'), (_req, res) => {
    res.json({ ok: true })
  })
  app.get('/write', guard.requireScope('orders:write'), (_req, res) => {
    res.json({ ok: true })
  })
  app.get('/internal', guard.requireBasic(basic), (req, res) => {
    res.json({ sub: req.auth?.sub })
  })
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve())
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await issuer.close()
})

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(`${base}${path}`, { method, headers })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('createExpressGuard', () => {
  it('puts the caller on req.auth', async () => {
    const response = await get('/orders', bearer(await issuer.mint({ sub: 'bob' })))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ sub: 'bob', scopes: ['orders:read', 'profile'] })
  })

  it('answers 401 with the configured realm and no error when credentials are missing', async () => {
    const response = await get('/orders')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="orders"')
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('answers 401 invalid_token for a forged token', async () => {
    const response = await get('/orders', bearer(`${await issuer.mint()}x`))
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="orders", error="invalid_token"')
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is invalid',
    })
  })

  it('answers 403 insufficient_scope with the needed scope', async () => {
    const response = await get('/write', bearer(await issuer.mint()))
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="orders", error="insufficient_scope", scope="orders:write"',
    )
  })

  it('checks roles and permissions', async () => {
    expect((await get('/admin', bearer(await issuer.mint({ roles: ['viewer'] })))).status).toBe(403)
    expect((await get('/admin', bearer(await issuer.mint({ roles: ['admin'] })))).status).toBe(200)
    expect((await get('/users', bearer(await issuer.mint({ roles: ['admin'] })), 'PUT')).status).toBe(200)
    expect((await get('/users', bearer(await issuer.mint()), 'PUT')).status).toBe(403)
  })

  it('checks basic credentials', async () => {
    const missing = await get('/internal')
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toBe('Basic realm="api", charset="UTF-8"')
    const ok = await get('/internal', {
      authorization: `Basic ${Buffer.from('ops:hunter2').toString('base64')}`,
    })
    expect(await ok.json()).toEqual({ sub: 'ops' })
  })

  it('throws a TypeError without a verifier or for api keys without introspection', () => {
    expect(() => createExpressGuard({} as never)).toThrow(TypeError)
    const guard = createExpressGuard({
      verifier: createVerifier({ issuer: issuer.url, audience: issuer.audience }),
    })
    expect(() => guard.requireAuth({ apiKeys: true })).toThrow(TypeError)
  })
})
