import { createPrivateKey } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import type { Kysely } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rotateSigningKey } from '../../src/admin.js'
import { buildApp } from '../../src/app.js'
import { loadConfig, SIGNING_ALGS, type SigningAlg } from '../../src/config.js'
import { createStore } from '../../src/store/kysely-store.js'
import type { Database } from '../../src/store/schema.js'
import { DIALECTS } from '../support/dialects.js'
import { basic, login, postForm, SVC_SECRET, startTestServer, type TestServer } from '../support/server.js'

const jwksOf = async (server: TestServer) =>
  (await server.app.inject({ url: '/.well-known/jwks.json' })).json() as JSONWebKeySet

const kidOf = (token: string) => decodeProtectedHeader(token).kid

const me = (server: TestServer, token: string) =>
  server.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })

async function verifyWithJwks(server: TestServer, token: string) {
  return jwtVerify(token, createLocalJWKSet(await jwksOf(server)), {
    algorithms: [server.config.signingAlg],
    issuer: server.config.issuer,
    audience: server.config.audience,
    typ: 'at+jwt',
    currentDate: new Date(server.clock.now()),
  })
}

for (const dialect of DIALECTS) {
  describe(`signing key rotation (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    it('after a rotation new tokens carry the new kid; tokens signed before still verify from the JWKS', async () => {
      const before = await login(server)
      const oldKid = kidOf(before.access_token)
      const { kid } = await rotateSigningKey(server.admin)
      await server.app.tessera.keys.reload()
      expect(kid).not.toBe(oldKid)

      const after = await login(server)
      expect(kidOf(after.access_token)).toBe(kid)
      const published = (await jwksOf(server)).keys.map((k) => k.kid)
      expect(published).toEqual(expect.arrayContaining([oldKid, kid]))
      await expect(verifyWithJwks(server, before.access_token)).resolves.toBeDefined()
      await expect(verifyWithJwks(server, after.access_token)).resolves.toBeDefined()
      expect((await me(server, before.access_token)).statusCode).toBe(200)
      expect((await me(server, after.access_token)).statusCode).toBe(200)
    })

    it('the old key leaves the JWKS once access-token lifetime plus 60 s have passed', async () => {
      const before = await login(server)
      const oldKid = kidOf(before.access_token)
      await rotateSigningKey(server.admin)
      await server.app.tessera.keys.reload()
      server.clock.advance(server.config.accessTokenTtl + 59)
      await server.app.tessera.keys.reload()
      expect((await jwksOf(server)).keys.map((k) => k.kid)).toContain(oldKid)
      server.clock.advance(2)
      await server.app.tessera.keys.reload()
      const keys = (await jwksOf(server)).keys
      expect(keys.map((k) => k.kid)).not.toContain(oldKid)
      expect(keys).toHaveLength(1)
      // by then the old token has expired anyway, and it no longer verifies at all
      expect((await me(server, before.access_token)).statusCode).toBe(401)
    })

    it('a key rotation is audited', async () => {
      const { kid } = await rotateSigningKey(server.admin)
      const rows = await server.app.tessera.store.listAudit({ type: 'key_rotated' })
      expect(rows.at(-1)?.detail).toMatchObject({ kid, alg: server.config.signingAlg })
    })

    it('private keys are encrypted at rest: signing_keys.private_key never holds a PKCS8 or JWK key', async () => {
      await rotateSigningKey(server.admin)
      const db = (server.app.tessera.store as unknown as { db: Kysely<Database> }).db
      const rows = await db.selectFrom('signing_keys').select(['private_key', 'public_jwk']).execute()
      expect(rows.length).toBeGreaterThanOrEqual(2)
      for (const row of rows) {
        expect(row.private_key).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
        expect(row.private_key).not.toMatch(/PRIVATE KEY|"d"\s*:|"kty"/)
        expect(() => JSON.parse(row.private_key)).toThrow()
        for (const part of row.private_key.split('.')) {
          for (const encoding of ['base64url', 'base64'] as const) {
            expect(() =>
              createPrivateKey({ key: Buffer.from(part, encoding), format: 'der', type: 'pkcs8' }),
            ).toThrow()
          }
        }
        expect(JSON.parse(row.public_jwk)).not.toHaveProperty('d')
      }
    })

    it('a different TESSERA_SECRET_KEY cannot start on the same database, and says why', async () => {
      const config = loadConfig(
        {},
        {
          databaseUrl: server.config.databaseUrl,
          dataDir: server.config.dataDir,
          secretKey: 'b'.repeat(64),
          logLevel: 'silent',
        },
      )
      const store = createStore(config.databaseUrl, { poolSize: 2 })
      try {
        await expect(buildApp(config, { logger: false, store })).rejects.toThrow(
          /^a signing key cannot be decrypted: TESSERA_SECRET_KEY differs from the one that encrypted it$/,
        )
      } finally {
        await store.close()
      }
    })
  })
}

describe('signing algorithms', () => {
  for (const alg of SIGNING_ALGS) {
    it(`${alg} issues tokens that the server verifies${alg === 'HS256' ? '' : ' and the JWKS verifies'}`, async () => {
      const server = await startTestServer({ config: { signingAlg: alg as SigningAlg } })
      try {
        const tokens = await login(server)
        expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg, typ: 'at+jwt' })
        expect((await me(server, tokens.access_token)).statusCode).toBe(200)
        const introspected = await postForm(
          server.app,
          '/oauth/introspect',
          { token: tokens.access_token },
          { authorization: basic('svc', SVC_SECRET) },
        )
        expect(introspected.body.active).toBe(true)
        const { keys } = await jwksOf(server)
        if (alg === 'HS256') {
          expect(keys).toEqual([])
        } else {
          expect(keys.map((k) => k.alg)).toEqual([alg])
          await expect(verifyWithJwks(server, tokens.access_token)).resolves.toBeDefined()
        }
      } finally {
        await server.close()
      }
    })
  }

  it('HS256 keys never appear in the JWKS, not even while retiring', async () => {
    const server = await startTestServer({ config: { signingAlg: 'HS256' } })
    try {
      await rotateSigningKey(server.admin)
      await server.app.tessera.keys.reload()
      const body = (await server.app.inject({ url: '/.well-known/jwks.json' })).body
      expect(JSON.parse(body)).toEqual({ keys: [] })
      const published = await server.app.tessera.store.listPublishedSigningKeys(server.clock.now())
      expect(published).toHaveLength(2)
    } finally {
      await server.close()
    }
  })

  it('a server switched from HS256 to ES256 publishes only the ES256 key', async () => {
    const first = await startTestServer({ config: { signingAlg: 'HS256' } })
    try {
      const config = loadConfig({}, { ...first.config, signingAlg: 'ES256' })
      const store = createStore(config.databaseUrl)
      const app = await buildApp(config, { logger: false, store })
      try {
        const { keys } = (await app.inject({ url: '/.well-known/jwks.json' })).json() as JSONWebKeySet
        expect(keys.map((k) => k.alg)).toEqual(['ES256'])
        expect(JSON.stringify(keys)).not.toContain('"k"')
      } finally {
        await app.close()
        await store.close()
      }
    } finally {
      await first.close()
    }
  })
})
