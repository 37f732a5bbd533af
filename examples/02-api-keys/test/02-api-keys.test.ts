import { createApiKey } from '@tessera/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenNode } from '../../support/listen.js'
import { DEMO, startTessera, type Tessera } from '../../support/tessera.js'
import { buildReportsApi } from '../app.js'

let tessera: Tessera
let api: Listening

beforeAll(async () => {
  tessera = await startTessera()
  api = await listenNode(
    buildReportsApi({
      issuer: tessera.url,
      clientId: DEMO.serviceClient,
      clientSecret: DEMO.serviceSecret,
      now: tessera.clock.now,
    }),
  )
})

afterAll(async () => {
  await api?.close()
  await tessera?.close()
})

const newKey = async (scopes: string[], expiresAt?: number) =>
  (await createApiKey(tessera.admin, { name: 'ci', scopes, expiresAt: expiresAt ?? null })).key

describe('api keys', () => {
  it('a key is shown once with a recognisable prefix, and tessera stores only its hash', async () => {
    const { key, record } = await createApiKey(tessera.admin, { name: 'ci', scopes: ['reports:read'] })
    expect(key).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/)
    expect(record.keyHash).not.toContain(key.slice(4))
  })

  it('a valid key in X-API-Key reaches the route', async () => {
    const key = await newKey(['reports:read'])
    const response = await fetch(`${api.url}/reports`, { headers: { 'x-api-key': key } })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      via: 'api_key',
      caller: expect.stringMatching(/^api-key:/),
    })
  })

  it('a valid key also works as a bearer credential', async () => {
    const key = await newKey(['reports:read'])
    const response = await fetch(`${api.url}/reports`, { headers: { authorization: `Bearer ${key}` } })
    expect(response.status).toBe(200)
  })

  it('a wrong key is refused with 401 invalid_token', async () => {
    const response = await fetch(`${api.url}/reports`, {
      headers: { 'x-api-key': `tsk_${'A'.repeat(43)}` },
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect((await response.json()).error).toBe('invalid_token')
  })

  it('an expired key is refused with 401', async () => {
    const key = await newKey(['reports:read'], tessera.clock.now() - 1000)
    const response = await fetch(`${api.url}/reports`, { headers: { 'x-api-key': key } })
    expect(response.status).toBe(401)
  })

  it('a key without the route scope is refused with 403 insufficient_scope', async () => {
    const key = await newKey(['reports:read'])
    const response = await fetch(`${api.url}/reports`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Churn' }),
    })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(response.headers.get('www-authenticate')).toContain('scope="reports:write"')
  })

  it('a key with the write scope can create a report', async () => {
    const key = await newKey(['reports:read', 'reports:write'])
    const response = await fetch(`${api.url}/reports`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Churn' }),
    })
    expect(response.status).toBe(201)
    expect(await response.json()).toMatchObject({ title: 'Churn' })
  })

  it('an api key and a bearer token together are refused as ambiguous', async () => {
    const key = await newKey(['reports:read'])
    const response = await fetch(`${api.url}/reports`, {
      headers: { 'x-api-key': key, authorization: `Bearer ${key}` },
    })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toBe('invalid_request')
  })

  it("a revoked key is refused once the guard's 30 s answer cache has lapsed", async () => {
    const { key, record } = await createApiKey(tessera.admin, { name: 'leaked', scopes: ['reports:read'] })
    expect((await fetch(`${api.url}/reports`, { headers: { 'x-api-key': key } })).status).toBe(200)
    expect(await tessera.admin.store.revokeApiKey(record.id, tessera.clock.now())).toBe(true)
    tessera.clock.advance(31)
    const response = await fetch(`${api.url}/reports`, { headers: { 'x-api-key': key } })
    expect(response.status).toBe(401)
    expect((await response.json()).error).toBe('invalid_token')
  })
})
