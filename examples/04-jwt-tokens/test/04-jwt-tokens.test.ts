import { rotateSigningKey } from '@tessera/server'
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenFastify } from '../../support/listen.js'
import { DEMO, login, startTessera, type Tessera } from '../../support/tessera.js'
import { buildTokenInspector } from '../app.js'

let tessera: Tessera
let api: Listening

beforeAll(async () => {
  tessera = await startTessera()
  api = await listenFastify(await buildTokenInspector({ issuer: tessera.url, now: tessera.clock.now }))
})

afterAll(async () => {
  await api?.close()
  await tessera?.close()
})

const inspect = (token: string) =>
  fetch(`${api.url}/token`, { headers: { authorization: `Bearer ${token}` } })

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function waitForNewKid(previous: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { kid } = decodeProtectedHeader((await login(tessera.url)).access_token)
    if (kid && kid !== previous) return kid
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('tessera kept signing with the old key')
}

describe('jwt access tokens', () => {
  it('the header names an asymmetric algorithm, the at+jwt type and the signing key', async () => {
    const { access_token } = await login(tessera.url)
    const header = decodeProtectedHeader(access_token)
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' })
    const jwks = (await (await fetch(`${tessera.url}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[]
    }
    expect(jwks.keys.map((key) => key.kid)).toContain(header.kid)
  })

  it('the jwks publishes public keys only', async () => {
    const jwks = (await (await fetch(`${tessera.url}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[]
    }
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d')
  })

  it('the claims say who, for whom, by whom and until when', async () => {
    const { access_token } = await login(tessera.url)
    const user = await tessera.admin.store.findUserByUsername(DEMO.username)
    const claims = decodeJwt(access_token)
    expect(claims).toMatchObject({
      iss: tessera.url,
      aud: tessera.url,
      sub: user?.id,
      client_id: DEMO.publicClient,
      scope: 'read write',
      roles: ['user'],
    })
    expect(claims.exp! - claims.iat!).toBe(tessera.config.accessTokenTtl)
    expect(claims.jti).toEqual(expect.any(String))
    expect(claims.sid).toEqual(expect.any(String))
  })

  it('any party can verify the signature with the published jwks', async () => {
    const { access_token } = await login(tessera.url)
    const jwks = createRemoteJWKSet(new URL(`${tessera.url}/.well-known/jwks.json`))
    const { payload } = await jwtVerify(access_token, jwks, {
      issuer: tessera.url,
      audience: tessera.url,
      typ: 'at+jwt',
    })
    expect(payload.client_id).toBe(DEMO.publicClient)
  })

  it('the api shows the verified header and claims', async () => {
    const { access_token } = await login(tessera.url)
    const response = await inspect(access_token)
    expect(response.status).toBe(200)
    const body = await response.json()
    expect(body.header.typ).toBe('at+jwt')
    expect(body.claims.client_id).toBe(DEMO.publicClient)
    expect(body.expiresIn).toBeGreaterThan(0)
  })

  it('a token whose claims were edited is refused, because the signature no longer matches', async () => {
    const { access_token } = await login(tessera.url)
    const [header, payload, signature] = access_token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const forged = `${header}.${base64url({ ...claims, roles: ['admin'] })}.${signature}`
    const response = await inspect(forged)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('an unsigned token with alg none is refused', async () => {
    const { access_token } = await login(tessera.url)
    const claims = decodeJwt(access_token)
    const unsigned = `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url(claims)}.`
    const response = await inspect(unsigned)
    expect(response.status).toBe(401)
  })

  it('after a key rotation new tokens use the new key and older tokens stay valid', async () => {
    const before = await login(tessera.url)
    const oldKid = decodeProtectedHeader(before.access_token).kid as string
    await inspect(before.access_token)
    // The guard fetches the JWKS again for an unknown kid at most once per 30 s cool-down.
    tessera.clock.advance(31)
    await rotateSigningKey(tessera.admin)
    const newKid = await waitForNewKid(oldKid)
    expect(newKid).not.toBe(oldKid)
    const after = await login(tessera.url)
    expect((await inspect(after.access_token)).status).toBe(200)
    expect((await inspect(before.access_token)).status).toBe(200)
  })

  it('an expired token is refused once its exp (plus a few seconds of clock tolerance) has passed', async () => {
    const { access_token } = await login(tessera.url)
    expect((await inspect(access_token)).status).toBe(200)
    tessera.clock.advance(tessera.config.accessTokenTtl + 6)
    const response = await inspect(access_token)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })
})
