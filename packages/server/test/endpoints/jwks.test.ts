import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  jwtVerify,
} from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { login, startTestServer, type TestServer } from '../support/server.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

describe('JWKS, RFC 7517', () => {
  let server: TestServer
  beforeEach(async () => {
    server = await startTestServer()
  })
  afterEach(async () => {
    await server.close()
  })

  const jwks = async () => {
    const response = await server.app.inject({ url: '/.well-known/jwks.json' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.headers['cache-control']).toMatch(/^public, max-age=\d+$/)
    return response.json() as JSONWebKeySet
  }

  it('publishes public keys only, each with kid, alg and use', async () => {
    const { keys } = await jwks()
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) {
      for (const member of PRIVATE_MEMBERS) expect(key, member).not.toHaveProperty(member)
      expect(key.kid).toEqual(expect.any(String))
      expect(key.alg).toBe(server.config.signingAlg)
      expect(key.use).toBe('sig')
      expect(key.kty).toMatch(/^(EC|OKP|RSA)$/)
    }
    expect(new Set(keys.map((k) => k.kid)).size).toBe(keys.length)
  })

  it('verifies an issued access token with a local key set and an algorithm allow-list', async () => {
    const { access_token } = await login(server)
    const { payload, protectedHeader } = await jwtVerify(access_token, createLocalJWKSet(await jwks()), {
      algorithms: [server.config.signingAlg],
      issuer: server.config.issuer,
      audience: server.config.audience,
      typ: 'at+jwt',
      currentDate: new Date(server.clock.now()),
    })
    expect(protectedHeader.kid).toBe(decodeProtectedHeader(access_token).kid)
    expect(payload.sub).toBe(server.user.id)
  })

  it('a token is refused by a verifier that does not allow its algorithm', async () => {
    const { access_token } = await login(server)
    await expect(
      jwtVerify(access_token, createLocalJWKSet(await jwks()), {
        algorithms: ['RS256'],
        currentDate: new Date(server.clock.now()),
      }),
    ).rejects.toThrow()
  })

  it('an unsigned token (alg "none") naming a published kid is refused by the server', async () => {
    const { access_token } = await login(server)
    const { kid } = decodeProtectedHeader(access_token)
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')
    const unsigned = `${header}.${access_token.split('.')[1]}.`
    const response = await server.app.inject({ url: '/me', headers: { authorization: `Bearer ${unsigned}` } })
    expect(response.statusCode).toBe(401)
    expect(response.json().error).toBe('invalid_token')
  })
})

describe('JWKS over the network', () => {
  it('verifies an issued access token with a remote key set', async () => {
    const server = await startTestServer({ listen: true })
    try {
      const metadata = (await (
        await fetch(`${server.url}/.well-known/oauth-authorization-server`)
      ).json()) as {
        jwks_uri: string
      }
      const { access_token } = await login(server)
      const { payload } = await jwtVerify(access_token, createRemoteJWKSet(new URL(metadata.jwks_uri)), {
        algorithms: ['EdDSA', 'ES256', 'RS256'],
        issuer: server.config.issuer,
        audience: server.config.audience,
        typ: 'at+jwt',
        currentDate: new Date(server.clock.now()),
      })
      expect(payload.client_id).toBe('web')
    } finally {
      await server.close()
    }
  })
})
