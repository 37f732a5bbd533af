import { decodeProtectedHeader, type JSONWebKeySet } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rotateSigningKey } from '../../src/admin.js'
import { DIALECTS } from '../support/dialects.js'
import { login, startTestServer, type TestServer } from '../support/server.js'

for (const dialect of DIALECTS) {
  describe(`key rotation without downtime (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    const kids = async () =>
      ((await server.app.inject({ url: '/.well-known/jwks.json' })).json() as JSONWebKeySet).keys.map(
        (k) => k.kid,
      )
    const signingKid = async () => decodeProtectedHeader((await login(server)).access_token).kid

    it('a delayed rotation publishes the new key at once and signs with it only from its activation time', async () => {
      const oldKid = await signingKid()
      const { kid, activatesAt } = await rotateSigningKey(server.admin, { activateIn: 120 })
      expect(activatesAt).toBe(server.clock.now() + 120_000)
      await server.app.tessera.keys.reload()
      expect(await kids()).toEqual(expect.arrayContaining([oldKid, kid]))
      expect(await signingKid()).toBe(oldKid)
      server.clock.advance(119)
      await server.app.tessera.keys.reload()
      expect(await signingKid()).toBe(oldKid)
      server.clock.advance(2)
      await server.app.tessera.keys.reload()
      expect(await signingKid()).toBe(kid)
    })

    it('the retiring key stays published until its last token has expired after the activation', async () => {
      const oldKid = await signingKid()
      await rotateSigningKey(server.admin, { activateIn: 120 })
      server.clock.advance(120 + server.config.accessTokenTtl + 59)
      await server.app.tessera.keys.reload()
      expect(await kids()).toContain(oldKid)
      server.clock.advance(2)
      await server.app.tessera.keys.reload()
      expect(await kids()).not.toContain(oldKid)
    })
  })
}
