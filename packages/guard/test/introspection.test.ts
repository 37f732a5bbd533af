import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createVerifier, type GuardError } from '../src/index.js'
import { basicAuthorization } from '../src/introspection.js'
import { FakeIssuer } from './support/fake-issuer.js'

const INTROSPECT = '/oauth/introspect'
const silent = { warn: () => {} }
let issuer: FakeIssuer
beforeEach(async () => {
  issuer = await FakeIssuer.start()
})
afterEach(() => issuer.close())

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as GuardError,
  )

describe('introspection mode', () => {
  it('denies a valid jwt the server says is inactive', async () => {
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      mode: 'introspection',
      introspection: { clientId: 'guard', clientSecret: 'secret' },
    })
    expect(await failure(verifier.verify(await issuer.mint()))).toMatchObject({
      status: 401,
      reason: 'inactive',
    })
  })

  it('accepts an active token and reuses the answer for cacheTtl seconds', async () => {
    let now = Date.now()
    issuer.introspection = () => ({ body: { active: true, token_type: 'Bearer' } })
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      now: () => now,
      mode: 'introspection',
      introspection: { clientId: 'guard', clientSecret: 'secret', cacheTtl: 5 },
    })
    const token = await issuer.mint()
    await verifier.verify(token)
    await verifier.verify(token)
    expect(issuer.count(INTROSPECT)).toBe(1)
    now += 6000
    await verifier.verify(token)
    expect(issuer.count(INTROSPECT)).toBe(2)
  })

  it('sends the token form-encoded with client_secret_basic credentials (rfc 6749 §2.3.1)', async () => {
    issuer.introspection = () => ({ body: { active: true } })
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      mode: 'introspection',
      introspection: { clientId: 'guard:1', clientSecret: 'p@ss word+' },
    })
    const token = await issuer.mint()
    await verifier.verify(token)
    const request = issuer.requests.find((entry) => entry.path === INTROSPECT)
    expect(request?.authorization).toBe(`Basic ${Buffer.from('guard%3A1:p%40ss+word%2B').toString('base64')}`)
    expect(new URLSearchParams(request?.body).get('token')).toBe(token)
    expect(basicAuthorization('a', 'b')).toBe(`Basic ${Buffer.from('a:b').toString('base64')}`)
  })

  it('fails closed with 503 when the endpoint is down or refuses the guard', async () => {
    issuer.introspection = () => ({ status: 401, body: { error: 'invalid_client' } })
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      mode: 'introspection',
      introspection: { clientId: 'guard', clientSecret: 'wrong' },
      logger: silent,
    })
    expect(await failure(verifier.verify(await issuer.mint()))).toMatchObject({
      code: 'temporarily_unavailable',
      status: 503,
      reason: 'introspection_unavailable',
    })
  })

  it('treats an answer without a boolean active as an outage, not as valid', async () => {
    issuer.introspection = () => ({ body: { active: 'yes' } })
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      mode: 'introspection',
      introspection: { clientId: 'guard', clientSecret: 'secret' },
      logger: silent,
    })
    expect(await failure(verifier.verify(await issuer.mint()))).toMatchObject({ status: 503 })
  })
})

describe('api keys', () => {
  const answers: Record<string, unknown> = {
    tsk_live: { active: true, token_type: 'api_key', scope: 'orders:read', sub: 'key-1' },
    tsk_token: { active: true, token_type: 'Bearer', scope: 'orders:read', sub: 'user' },
    tsk_old: { active: true, token_type: 'api_key', sub: 'key-2', exp: 1 },
  }
  const verifierFor = (now: () => number = Date.now) =>
    createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      now,
      introspection: { clientId: 'guard', clientSecret: 'secret' },
      logger: silent,
    })
  beforeEach(() => {
    issuer.introspection = (params) => ({ body: answers[params.get('token') ?? ''] ?? { active: false } })
  })

  it('accepts a key the endpoint calls an active api_key', async () => {
    await expect(verifierFor().verifyApiKey('tsk_live')).resolves.toMatchObject({
      sub: 'key-1',
      scope: 'orders:read',
    })
  })

  it('refuses inactive keys, other token types, expired keys and malformed keys', async () => {
    const verifier = verifierFor()
    expect(await failure(verifier.verifyApiKey('tsk_nope'))).toMatchObject({ reason: 'inactive' })
    expect(await failure(verifier.verifyApiKey('tsk_token'))).toMatchObject({ reason: 'wrong_type' })
    expect(await failure(verifier.verifyApiKey('tsk_old'))).toMatchObject({ reason: 'expired' })
    expect(await failure(verifier.verifyApiKey('tsk_bad key'))).toMatchObject({ reason: 'malformed' })
    expect(await failure(verifier.verifyApiKey('sk_live'))).toMatchObject({ reason: 'malformed' })
  })

  it('caches answers for 30 seconds by default and shares concurrent calls', async () => {
    let now = Date.now()
    const verifier = verifierFor(() => now)
    await Promise.all([verifier.verifyApiKey('tsk_live'), verifier.verifyApiKey('tsk_live')])
    await verifier.verifyApiKey('tsk_live')
    expect(issuer.count(INTROSPECT)).toBe(1)
    now += 31_000
    await verifier.verifyApiKey('tsk_live')
    expect(issuer.count(INTROSPECT)).toBe(2)
  })

  it('fails closed when the endpoint cannot be reached', async () => {
    const verifier = verifierFor()
    await issuer.close()
    expect(await failure(verifier.verifyApiKey('tsk_live'))).toMatchObject({ status: 503 })
    issuer = await FakeIssuer.start()
  })

  it('throws a TypeError when api keys are checked without introspection credentials', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience })
    await expect(verifier.verifyApiKey('tsk_live')).rejects.toThrow(TypeError)
  })
})
