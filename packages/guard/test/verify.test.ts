import { createSecretKey, generateKeyPairSync } from 'node:crypto'
import { exportJWK, SignJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createVerifier, GuardError } from '../src/index.js'
import { metadataUrl } from '../src/metadata.js'
import { FakeIssuer } from './support/fake-issuer.js'

const silent = { warn: () => {} }
const JWKS = '/.well-known/jwks.json'
const METADATA = '/.well-known/oauth-authorization-server'

let issuer: FakeIssuer
beforeEach(async () => {
  issuer = await FakeIssuer.start(['EdDSA', 'ES256', 'RS256'])
})
afterEach(() => issuer.close())

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(GuardError)
  return (error as GuardError).reason
}

describe('createVerifier', () => {
  it('finds the jwks through the issuer metadata and returns the claims', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, logger: silent })
    const claims = await verifier.verify(await issuer.mint({ sub: 'alice' }))
    expect(claims).toMatchObject({
      sub: 'alice',
      iss: issuer.url,
      client_id: 'web-app',
      scope: 'orders:read profile',
    })
    expect(issuer.count(METADATA)).toBe(1)
    expect(issuer.count(JWKS)).toBe(1)
  })

  it('verifies eddsa, es256 and rs256 tokens from the same key set', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, logger: silent })
    for (const key of issuer.keys) {
      await expect(verifier.verify(await issuer.mint({}, { key }))).resolves.toMatchObject({ sub: 'user-1' })
    }
  })

  it('uses jwksUri without asking for metadata', async () => {
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
    })
    await verifier.verify(await issuer.mint())
    expect(issuer.count(METADATA)).toBe(0)
  })

  it('accepts static jwks and key objects without any network', async () => {
    const [ed, es] = issuer.keys
    const fromJwk = createVerifier({ issuer: issuer.url, audience: issuer.audience, keys: [ed!.publicJwk] })
    await expect(fromJwk.verify(await issuer.mint({}, { key: ed! }))).resolves.toBeTruthy()
    const pair = generateKeyPairSync('ed25519')
    const fromKeyObject = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      keys: [{ kid: es!.kid, key: pair.publicKey }],
    })
    const token = await new SignJWT(issuer.claims())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: es!.kid })
      .sign(pair.privateKey)
    await expect(fromKeyObject.verify(token)).resolves.toBeTruthy()
    expect(issuer.requests).toHaveLength(0)
  })

  it('accepts hs256 only with an explicit secret and opt-in', async () => {
    const secret = createSecretKey(Buffer.alloc(32, 7))
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      algorithms: ['HS256'],
      keys: [{ kid: 'shared', key: secret }],
      logger: silent,
    })
    const token = await new SignJWT(issuer.claims())
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'shared' })
      .sign(secret)
    await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'user-1' })
    const defaults = createVerifier({ issuer: issuer.url, audience: issuer.audience })
    expect(await reasonOf(defaults.verify(token))).toBe('unsupported_alg')
  })

  it('warns once at start-up when hs256 is enabled', () => {
    const warnings: string[] = []
    createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      algorithms: ['HS256'],
      keys: [createSecretKey(Buffer.alloc(32))],
      logger: { warn: (_details, message) => warnings.push(message) },
    })
    expect(warnings).toEqual([expect.stringContaining('HS256')])
  })

  it('accepts the application/at+jwt spelling of the type', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience })
    const token = await issuer.mint({}, { header: { typ: 'application/at+jwt' } })
    await expect(verifier.verify(token)).resolves.toBeTruthy()
  })

  it('accepts a token whose audience array contains one of ours', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: ['https://other.test', issuer.audience] })
    await expect(verifier.verify(await issuer.mint({ aud: ['x', issuer.audience] }))).resolves.toBeTruthy()
  })

  it('tolerates clock skew up to clockTolerance and no further', async () => {
    let now = Date.now()
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, now: () => now })
    const exp = Math.floor(now / 1000) - 3
    const token = await issuer.mint({ exp })
    await expect(verifier.verify(token)).resolves.toBeTruthy()
    now = (exp + 6) * 1000
    expect(await reasonOf(verifier.verify(await issuer.mint({ exp })))).toBe('expired')
  })

  it('never returns a cached token past its exp', async () => {
    let now = Date.now()
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      now: () => now,
      clockTolerance: 0,
    })
    const exp = Math.floor(now / 1000) + 60
    const token = await issuer.mint({ exp })
    const first = await verifier.verify(token)
    expect(await verifier.verify(token)).toBe(first)
    now = exp * 1000
    expect(await reasonOf(verifier.verify(token))).toBe('expired')
  })

  it('drops cached tokens on revoke by jti and by sid', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience })
    const byJti = await issuer.mint({ jti: 'token-1', sid: 'a' })
    const bySid = await issuer.mint({ sid: 'session-9' })
    const other = await issuer.mint({ sid: 'b' })
    await Promise.all([verifier.verify(byJti), verifier.verify(bySid), verifier.verify(other)])
    verifier.revoke({ jti: 'token-1' })
    verifier.revoke({ sid: 'session-9' })
    expect(await reasonOf(verifier.verify(byJti))).toBe('revoked')
    expect(await reasonOf(verifier.verify(bySid))).toBe('revoked')
    expect(await reasonOf(verifier.verify(await issuer.mint({ sid: 'session-9' })))).toBe('revoked')
    await expect(verifier.verify(other)).resolves.toBeTruthy()
  })

  it('forgets a revocation once the revoked tokens have expired anyway', async () => {
    let now = Date.now()
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      now: () => now,
      cacheSize: 0,
    })
    const exp = Math.floor(now / 1000) + 60
    verifier.revoke({ sid: 'old', exp })
    expect(await reasonOf(verifier.verify(await issuer.mint({ sid: 'old', exp })))).toBe('revoked')
    now = (exp + 1) * 1000
    const later = await issuer.mint({ sid: 'old' }, { now })
    await expect(verifier.verify(later)).resolves.toBeTruthy()
  })

  it('picks up a rotated key once the cool-down has passed', async () => {
    let now = Date.now()
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, now: () => now })
    await verifier.verify(await issuer.mint())
    const rotated = await issuer.addKey('EdDSA')
    now += 31_000
    await expect(verifier.verify(await issuer.mint({}, { key: rotated, now }))).resolves.toBeTruthy()
    expect(issuer.count(JWKS)).toBe(2)
  })

  it('refreshes an old key set in the background while still verifying', async () => {
    let now = Date.now()
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, now: () => now })
    await verifier.verify(await issuer.mint())
    now += 601_000
    await expect(verifier.verify(await issuer.mint({}, { now }))).resolves.toBeTruthy()
    await expect.poll(() => issuer.count(JWKS)).toBe(2)
  })

  it('answers temporarily_unavailable with status 503 when the jwks cannot be fetched', async () => {
    issuer.jwksStatus = 500
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, logger: silent })
    const error = await verifier.verify(await issuer.mint()).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503, reason: 'jwks_unavailable' })
  })

  it('ignores metadata that names another issuer (rfc 8414 §3.3)', async () => {
    issuer.metadataIssuer = 'https://evil.test'
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience, logger: silent })
    expect(await reasonOf(verifier.verify(await issuer.mint()))).toBe('jwks_unavailable')
    expect(issuer.count(JWKS)).toBe(0)
  })

  it('never uses a secret published in a jwks', async () => {
    const secret = createSecretKey(Buffer.alloc(32, 1))
    issuer.keys.push({
      ...issuer.keys[0]!,
      kid: 'oct',
      publicJwk: { ...(await exportJWK(secret)), kid: 'oct' },
    })
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience })
    const token = await new SignJWT(issuer.claims())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'oct' })
      .sign(issuer.keys[0]!.privateKey)
    expect(await reasonOf(verifier.verify(token))).toBe('unknown_kid')
  })

  it('rejects a claim set missing a required rfc 9068 claim', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience })
    expect(await reasonOf(verifier.verify(await issuer.mint({ client_id: undefined })))).toBe(
      'invalid_claims',
    )
    expect(await reasonOf(verifier.verify(await issuer.mint({ roles: ['ok', 3] as never })))).toBe(
      'invalid_claims',
    )
  })

  it('returns frozen claims so one request cannot change what another sees', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience })
    const claims = await verifier.verify(await issuer.mint())
    expect(Object.isFrozen(claims)).toBe(true)
    expect(Object.isFrozen(claims.roles)).toBe(true)
  })
})

describe('createVerifier options', () => {
  const base = () => ({ issuer: issuer.url, audience: issuer.audience })

  it.each([
    ['a missing audience', { audience: undefined }],
    ['an issuer that is not a url', { issuer: 'not a url' }],
    ['alg none', { algorithms: ['none'] }],
    ['an empty algorithm list', { algorithms: [] }],
    ['hs256 without a static secret', { algorithms: ['HS256'] }],
    ['keys together with jwksUri', { keys: [], jwksUri: 'https://x.test/jwks' }],
    ['a negative clock tolerance', { clockTolerance: -1 }],
    ['introspection mode without credentials', { mode: 'introspection' }],
    ['a secret key without hs256 allowed', { keys: [createSecretKey(Buffer.alloc(32))] }],
    ['a private key', { keys: [generateKeyPairSync('ed25519').privateKey] }],
    ['a short hs256 secret', { algorithms: ['HS256'], keys: [createSecretKey(Buffer.alloc(16))] }],
  ])('throws a TypeError for %s', (_name, patch) => {
    expect(() => createVerifier({ ...base(), logger: silent, ...patch } as never)).toThrow(TypeError)
  })

  it('throws a TypeError when revoke names neither jti nor sid', () => {
    expect(() => createVerifier(base()).revoke({})).toThrow(TypeError)
  })

  it('places the metadata suffix before an issuer path (rfc 8414 §3.1)', () => {
    expect(metadataUrl('https://auth.test')).toBe('https://auth.test/.well-known/oauth-authorization-server')
    expect(metadataUrl('https://auth.test/tenant/')).toBe(
      'https://auth.test/.well-known/oauth-authorization-server/tenant',
    )
  })
})
