import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/dialects.js'
import {
  basic,
  login,
  PASSWORD,
  postForm,
  refresh,
  SVC_SECRET,
  startTestServer,
  type TestServer,
} from '../support/server.js'

for (const dialect of DIALECTS) {
  describe(`revocation, RFC 7009 (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    const revoke = (token: string, form: Record<string, string> = { client_id: 'web' }) =>
      postForm(server.app, '/oauth/revoke', { token, ...form })
    const me = (accessToken: string) =>
      server.app.inject({ url: '/me', headers: { authorization: `Bearer ${accessToken}` } })
    const introspect = (token: string) =>
      postForm(server.app, '/oauth/introspect', { token }, { authorization: basic('svc', SVC_SECRET) })

    it('revoking a refresh token answers 200 with no-store and ends its session', async () => {
      const tokens = await login(server)
      const response = await revoke(tokens.refresh_token)
      expect(response.status).toBe(200)
      expect(response.headers['cache-control']).toBe('no-store')
      const after = await refresh(server, tokens.refresh_token)
      expect(after.status).toBe(400)
      expect(after.body.error).toBe('invalid_grant')
    })

    it('revoking an old refresh token of a session also kills the token a later rotation issued', async () => {
      const { refresh_token: t0 } = await login(server)
      const t1 = (await refresh(server, t0)).body.refresh_token as string
      const t2 = (await refresh(server, t1)).body
      expect((await revoke(t0)).status).toBe(200)
      expect((await refresh(server, t2.refresh_token as string)).body.error).toBe('invalid_grant')
      expect((await me(t2.access_token as string)).statusCode).toBe(401)
    })

    it('revoking the latest refresh token ends every access token issued in the session', async () => {
      const first = await login(server)
      const second = (await refresh(server, first.refresh_token)).body
      await revoke(second.refresh_token as string)
      for (const access of [first.access_token, second.access_token as string]) {
        const response = await me(access)
        expect(response.statusCode).toBe(401)
        expect(response.json().error).toBe('invalid_token')
      }
      expect((await introspect(first.access_token)).body).toEqual({ active: false })
    })

    it("the user's other sessions survive", async () => {
      const phone = await login(server)
      const laptop = await login(server)
      await revoke(phone.refresh_token)
      expect((await refresh(server, laptop.refresh_token)).status).toBe(200)
      expect((await me(laptop.access_token)).statusCode).toBe(200)
    })

    it('the revocation is audited once, with its reason', async () => {
      const tokens = await login(server)
      await revoke(tokens.refresh_token)
      await revoke(tokens.refresh_token)
      const rows = await server.app.tessera.store.listAudit({ type: 'session_revoked' })
      expect(rows).toHaveLength(1)
      expect(rows[0]?.detail).toMatchObject({ reason: 'revoked_by_client' })
    })

    it('revoking an access token makes /me and introspection refuse it; other tokens keep working', async () => {
      const tokens = await login(server)
      const other = await login(server)
      const sibling = (await refresh(server, tokens.refresh_token)).body
      expect(
        (await revoke(tokens.access_token, { client_id: 'web', token_type_hint: 'access_token' })).status,
      ).toBe(200)
      const refused = await me(tokens.access_token)
      expect(refused.statusCode).toBe(401)
      expect(refused.json().error).toBe('invalid_token')
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="tessera", error="invalid_token"')
      expect((await introspect(tokens.access_token)).body).toEqual({ active: false })
      // only that token: the session, its newer access token and other sessions carry on
      expect((await me(sibling.access_token as string)).statusCode).toBe(200)
      expect((await me(other.access_token)).statusCode).toBe(200)
      expect((await refresh(server, sibling.refresh_token as string)).status).toBe(200)
      const audit = await server.app.tessera.store.listAudit({ type: 'access_token_revoked' })
      expect(audit).toHaveLength(1)
    })

    it('a client_credentials access token can be revoked by its client', async () => {
      const issued = await postForm(
        server.app,
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic('svc', SVC_SECRET) },
      )
      const token = issued.body.access_token as string
      expect((await introspect(token)).body.active).toBe(true)
      const response = await postForm(
        server.app,
        '/oauth/revoke',
        { token },
        { authorization: basic('svc', SVC_SECRET) },
      )
      expect(response.status).toBe(200)
      expect((await introspect(token)).body).toEqual({ active: false })
    })

    it('an unknown or garbage token is answered 200 (RFC 7009 §2.2)', async () => {
      const forged = `tsr_${Buffer.alloc(52, 7).toString('base64url')}`
      for (const token of ['garbage', 'a.b.c', forged, 'tsk_nothing', 'x'.repeat(8000)]) {
        const response = await revoke(token)
        expect(response.status).toBe(200)
        expect(response.body).toEqual({})
      }
    })

    it('an unknown token_type_hint is ignored, not an error', async () => {
      const tokens = await login(server)
      const response = await revoke(tokens.refresh_token, { client_id: 'web', token_type_hint: 'banana' })
      expect(response.status).toBe(200)
      expect((await refresh(server, tokens.refresh_token)).body.error).toBe('invalid_grant')
    })

    it("another client's refresh token is answered 200 and NOT revoked", async () => {
      const signedIn = await postForm(
        server.app,
        '/oauth/token',
        { grant_type: 'password', username: 'alice', password: PASSWORD },
        { authorization: basic('svc', SVC_SECRET) },
      )
      expect(signedIn.status).toBe(200)
      const response = await revoke(signedIn.body.refresh_token as string)
      expect(response.status).toBe(200)
      const still = await postForm(
        server.app,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: signedIn.body.refresh_token as string },
        { authorization: basic('svc', SVC_SECRET) },
      )
      expect(still.status).toBe(200)
      expect(await server.app.tessera.store.listAudit({ type: 'session_revoked' })).toHaveLength(0)
    })

    it("another client's access token is answered 200 and NOT revoked", async () => {
      const tokens = await login(server)
      const response = await postForm(
        server.app,
        '/oauth/revoke',
        { token: tokens.access_token },
        { authorization: basic('svc', SVC_SECRET) },
      )
      expect(response.status).toBe(200)
      expect((await me(tokens.access_token)).statusCode).toBe(200)
      expect((await introspect(tokens.access_token)).body.active).toBe(true)
    })

    it('requires client authentication: none at all is 401 invalid_client', async () => {
      const tokens = await login(server)
      const response = await postForm(server.app, '/oauth/revoke', { token: tokens.refresh_token })
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('invalid_client')
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="tessera"/)
      expect((await refresh(server, tokens.refresh_token)).status).toBe(200)
    })

    it('a wrong client secret is 401 invalid_client and revokes nothing', async () => {
      const tokens = await login(server)
      const response = await postForm(
        server.app,
        '/oauth/revoke',
        { token: tokens.access_token },
        { authorization: basic('svc', 'not-the-secret-at-all') },
      )
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('invalid_client')
      expect((await me(tokens.access_token)).statusCode).toBe(200)
    })

    it('a missing token parameter is 400 invalid_request; a JSON body is refused', async () => {
      const missing = await postForm(server.app, '/oauth/revoke', { client_id: 'web' })
      expect(missing.status).toBe(400)
      expect(missing.body.error).toBe('invalid_request')
      const json = await server.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ token: 'x', client_id: 'web' }),
      })
      expect(json.statusCode).toBe(400)
      expect(json.json().error).toBe('invalid_request')
    })
  })
}
