import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tesseraGuard } from '../src/fastify.js'
import { createBasicAuth, createVerifier, hashBasicCredential } from '../src/index.js'
import { FakeIssuer } from './support/fake-issuer.js'

let issuer: FakeIssuer
let app: FastifyInstance
const refusals: string[] = []

beforeAll(async () => {
  issuer = await FakeIssuer.start()
  issuer.introspection = (params) =>
    params.get('token') === 'tsk_good'
      ? { body: { active: true, token_type: 'api_key', scope: 'orders:read', sub: 'key-1' } }
      : { body: { active: false } }
  const verifier = createVerifier({
    issuer: issuer.url,
    audience: issuer.audience,
    introspection: { clientId: 'guard', clientSecret: 'secret' },
    permissions: { admin: ['users:write', 'users:read'], viewer: ['users:read'] },
  })
  const basic = createBasicAuth({
    realm: 'internal',
    credentials: { billing: await hashBasicCredential('pa:ss') },
  })
  app = Fastify()
  await app.register(tesseraGuard, { verifier, basic, onFailure: (error) => refusals.push(error.reason) })
  app.get('/public', () => ({ auth: null }))
  app.get('/me', { config: { auth: true } }, (request) => ({
    sub: request.auth?.sub,
    type: request.auth?.type,
  }))
  app.get('/orders', { config: { auth: { scopes: ['orders:read'], apiKeys: true } } }, (request) => ({
    sub: request.auth?.sub,
  }))
  app.post('/orders', { config: { auth: { scopes: ['orders:write', 'orders:read'] } } }, () => ({ ok: true }))
  app.get('/admin', { onRequest: app.requireRole('admin') }, () => ({ ok: true }))
  app.get(
    '/users',
    { config: { auth: true }, onRequest: app.requirePermission('users:read') },
    (request) => ({
      permissions: request.auth?.permissions,
    }),
  )
  app.get('/maybe', { config: { auth: { optional: true } } }, (request) => ({
    sub: request.auth?.sub ?? null,
  }))
  app.get('/internal', { config: { auth: { basic: true } } }, (request) => ({ sub: request.auth?.sub }))
  app.get('/scoped', { onRequest: app.requireScope('profile') }, () => ({ ok: true }))
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await issuer.close()
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('tesseraGuard', () => {
  it('leaves routes without config.auth public', async () => {
    const response = await app.inject({ url: '/public' })
    expect(response.statusCode).toBe(200)
  })

  it('puts the caller on request.auth', async () => {
    const response = await app.inject({ url: '/me', headers: bearer(await issuer.mint({ sub: 'alice' })) })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ sub: 'alice', type: 'access_token' })
  })

  it('answers 401 with a bare bearer challenge when no credentials are sent (rfc 6750 §3.1)', async () => {
    const response = await app.inject({ url: '/me' })
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(response.json()).toEqual({
      error: 'authentication_required',
      error_description: 'Authentication is required',
    })
  })

  it('treats another auth scheme as no bearer credentials', async () => {
    const response = await app.inject({ url: '/me', headers: { authorization: 'Basic Zm9vOmJhcg==' } })
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('answers 401 invalid_token and logs the precise reason only through onFailure', async () => {
    const iat = Math.floor(Date.now() / 1000) - 2000
    const response = await app.inject({
      url: '/me',
      headers: bearer(await issuer.mint({ iat, exp: iat + 900 })),
    })
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"')
    expect(response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is invalid',
    })
    expect(response.body).not.toContain('expired')
    expect(refusals.at(-1)).toBe('expired')
  })

  it('answers 403 insufficient_scope naming the needed scopes', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: bearer(await issuer.mint()),
    })
    expect(response.statusCode).toBe(403)
    expect(response.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="orders:write orders:read"',
    )
    expect(response.json().error).toBe('insufficient_scope')
  })

  it('answers 400 invalid_request for an empty bearer value', async () => {
    const response = await app.inject({ url: '/me', headers: { authorization: 'Bearer ' } })
    expect(response.statusCode).toBe(400)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_request"')
  })

  it('answers 400 invalid_request when a token and an api key are both sent (rfc 6750 §2)', async () => {
    const headers = { ...bearer(await issuer.mint()), 'x-api-key': 'tsk_good' }
    const response = await app.inject({ url: '/orders', headers })
    expect(response.statusCode).toBe(400)
    expect(response.json().error).toBe('invalid_request')
  })

  it('accepts the bearer scheme in any letter case', async () => {
    const response = await app.inject({
      url: '/me',
      headers: { authorization: `bEaReR ${await issuer.mint()}` },
    })
    expect(response.statusCode).toBe(200)
  })

  it('accepts an api key in x-api-key or as a bearer token on routes that allow them', async () => {
    const viaHeader = await app.inject({ url: '/orders', headers: { 'x-api-key': 'tsk_good' } })
    expect(viaHeader.statusCode).toBe(200)
    expect(viaHeader.json()).toEqual({ sub: 'key-1' })
    const viaBearer = await app.inject({ url: '/orders', headers: bearer('tsk_good') })
    expect(viaBearer.statusCode).toBe(200)
  })

  it('refuses an api key on a route that does not allow them', async () => {
    const response = await app.inject({ url: '/me', headers: { 'x-api-key': 'tsk_good' } })
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"')
    expect(refusals.at(-1)).toBe('api_key_not_allowed')
  })

  it('refuses an unknown api key', async () => {
    const response = await app.inject({ url: '/orders', headers: { 'x-api-key': 'tsk_bad' } })
    expect(response.statusCode).toBe(401)
    expect(refusals.at(-1)).toBe('inactive')
  })

  it('checks roles with requireRole', async () => {
    const viewer = await app.inject({
      url: '/admin',
      headers: bearer(await issuer.mint({ roles: ['viewer'] })),
    })
    expect(viewer.statusCode).toBe(403)
    expect(viewer.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope"')
    const admin = await app.inject({
      url: '/admin',
      headers: bearer(await issuer.mint({ roles: ['admin'] })),
    })
    expect(admin.statusCode).toBe(200)
  })

  it('expands roles into permissions for requirePermission', async () => {
    const response = await app.inject({
      url: '/users',
      headers: bearer(await issuer.mint({ roles: ['viewer'] })),
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ permissions: ['users:read'] })
    const none = await app.inject({ url: '/users', headers: bearer(await issuer.mint({ roles: [] })) })
    expect(none.statusCode).toBe(403)
  })

  it('checks scopes with requireScope', async () => {
    const ok = await app.inject({ url: '/scoped', headers: bearer(await issuer.mint()) })
    expect(ok.statusCode).toBe(200)
    const denied = await app.inject({
      url: '/scoped',
      headers: bearer(await issuer.mint({ scope: 'orders:read' })),
    })
    expect(denied.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="profile"',
    )
  })

  it('lets optional routes through without credentials but not with bad ones', async () => {
    expect((await app.inject({ url: '/maybe' })).json()).toEqual({ sub: null })
    expect((await app.inject({ url: '/maybe', headers: bearer('garbage') })).statusCode).toBe(401)
  })

  it('protects basic routes with a basic challenge', async () => {
    const missing = await app.inject({ url: '/internal' })
    expect(missing.statusCode).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Basic realm="internal", charset="UTF-8"')
    const wrong = await app.inject({
      url: '/internal',
      headers: { authorization: `Basic ${Buffer.from('billing:nope').toString('base64')}` },
    })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json().error).toBe('invalid_credentials')
    const right = await app.inject({
      url: '/internal',
      headers: { authorization: `Basic ${Buffer.from('billing:pa:ss').toString('base64')}` },
    })
    expect(right.statusCode).toBe(200)
    expect(right.json()).toEqual({ sub: 'billing' })
  })

  it('fails at start-up on a route asking for api keys without introspection', async () => {
    const bare = Fastify()
    await bare.register(tesseraGuard, {
      verifier: createVerifier({ issuer: issuer.url, audience: issuer.audience }),
    })
    expect(() => bare.get('/x', { config: { auth: { apiKeys: true } } }, () => 'x')).toThrow(TypeError)
    expect(() => bare.get('/y', { config: { auth: { scopes: ['two words'] } } }, () => 'y')).toThrow(
      TypeError,
    )
    await bare.close()
  })

  it('answers 503 without a challenge when the key set cannot be reached', async () => {
    const down = await FakeIssuer.start()
    down.jwksStatus = 503
    const guarded = Fastify()
    await guarded.register(tesseraGuard, {
      verifier: createVerifier({ issuer: down.url, audience: down.audience, logger: { warn: () => {} } }),
      defaultAuth: true,
    })
    guarded.get('/x', () => 'x')
    const response = await guarded.inject({ url: '/x', headers: bearer(await down.mint()) })
    expect(response.statusCode).toBe(503)
    expect(response.headers['www-authenticate']).toBeUndefined()
    expect(response.headers['retry-after']).toBe('5')
    expect(response.json().error).toBe('temporarily_unavailable')
    await guarded.close()
    await down.close()
  })
})
