import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient, disableUser } from '../../src/admin.js'
import { createApiKey } from '../../src/api-keys.js'
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
  describe(`introspection, RFC 7662 (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    const introspect = (
      token: string,
      headers: Record<string, string> = { authorization: basic('svc', SVC_SECRET) },
    ) => postForm(server.app, '/oauth/introspect', { token }, headers)

    it('an access token is active, with its claims, and the answer is not cached', async () => {
      const tokens = await login(server)
      const response = await introspect(tokens.access_token)
      expect(response.status).toBe(200)
      expect(response.headers['cache-control']).toBe('no-store')
      const claims = decodeJwt(tokens.access_token)
      expect(response.body).toEqual({
        active: true,
        token_type: 'Bearer',
        iss: server.config.issuer,
        sub: server.user.id,
        aud: server.config.audience,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        client_id: 'web',
        scope: 'read write admin',
        sid: claims.sid,
        roles: ['user'],
      })
    })

    it('a public client cannot introspect: naming itself is no authentication (RFC 7662 §2.1)', async () => {
      const tokens = await login(server)
      const response = await postForm(server.app, '/oauth/introspect', {
        token: tokens.access_token,
        client_id: 'web',
      })
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('invalid_client')
      expect(response.body).not.toHaveProperty('active')
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="tessera"/)
      const audit = await server.app.tessera.store.listAudit({ type: 'client_auth_failed' })
      expect(audit.map((row) => row.detail?.reason)).toEqual(['public_client_cannot_introspect'])
    })

    it('an expired access token is inactive', async () => {
      const tokens = await login(server)
      server.clock.advance(900 + 6)
      expect((await introspect(tokens.access_token)).body).toEqual({ active: false })
    })

    it('an access token of a revoked session is inactive at once', async () => {
      const tokens = await login(server)
      expect((await introspect(tokens.access_token)).body.active).toBe(true)
      await postForm(server.app, '/oauth/revoke', { token: tokens.refresh_token, client_id: 'web' })
      expect((await introspect(tokens.access_token)).body).toEqual({ active: false })
    })

    it('an access token of a disabled user is inactive, with or without a session', async () => {
      await createClient(server.admin, {
        id: 'kiosk',
        isPublic: true,
        grantTypes: ['password'],
        scopes: ['read'],
        redirectUris: [],
      })
      const sessionless = await postForm(server.app, '/oauth/token', {
        grant_type: 'password',
        client_id: 'kiosk',
        username: 'alice',
        password: PASSWORD,
      })
      const withSession = await login(server)
      const tokens = [sessionless.body.access_token as string, withSession.access_token]
      for (const token of tokens) expect((await introspect(token)).body.active).toBe(true)
      await disableUser(server.admin, 'alice')
      for (const token of tokens) expect((await introspect(token)).body).toEqual({ active: false })
    })

    it('a refresh token is active with token_type refresh_token only for the current generation', async () => {
      const first = await login(server)
      const active = await introspect(first.refresh_token)
      expect(active.status).toBe(200)
      const sid = decodeJwt(first.access_token).sid
      expect(active.body).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        client_id: 'web',
        sub: server.user.id,
        scope: 'read write admin',
        sid,
        iss: server.config.issuer,
      })
      expect(active.body.exp).toBe(
        Math.floor((server.clock.now() + server.config.refreshIdleTtl * 1000) / 1000),
      )
      const second = (await refresh(server, first.refresh_token)).body.refresh_token as string
      expect((await introspect(first.refresh_token)).body).toEqual({ active: false })
      expect((await introspect(second)).body).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        sid,
      })
    })

    it('a refresh token of a revoked or idle-expired session is inactive', async () => {
      const revoked = await login(server)
      await postForm(server.app, '/oauth/revoke', { token: revoked.refresh_token, client_id: 'web' })
      expect((await introspect(revoked.refresh_token)).body).toEqual({ active: false })
      const idle = await login(server)
      server.clock.advance(server.config.refreshIdleTtl + 1)
      expect((await introspect(idle.refresh_token)).body).toEqual({ active: false })
    })

    it('an API key is active with its scope', async () => {
      const { key, record } = await createApiKey(server.app.tessera, {
        name: 'reporting',
        scopes: ['read', 'reports'],
      })
      expect(key).toMatch(/^tsk_/)
      const response = await introspect(key)
      expect(response.body).toEqual({
        active: true,
        token_type: 'api_key',
        sub: `api-key:${record.id}`,
        name: 'reporting',
        scope: 'read reports',
        iat: Math.floor(record.createdAt / 1000),
        iss: server.config.issuer,
      })
    })

    it('an API key past its expiry is inactive; until then it carries exp', async () => {
      const expiresAt = server.clock.now() + 60_000
      const { key } = await createApiKey(server.app.tessera, { name: 'short', scopes: ['read'], expiresAt })
      expect((await introspect(key)).body).toMatchObject({ active: true, exp: Math.floor(expiresAt / 1000) })
      server.clock.advance(61)
      expect((await introspect(key)).body).toEqual({ active: false })
    })

    it('an unknown API key, refresh token or JWT is inactive', async () => {
      const forgedJwt = `${Buffer.from('{"alg":"ES256","typ":"at+jwt","kid":"nope"}').toString('base64url')}.e30.c2ln`
      for (const token of [
        'tsk_unknown-key-unknown-key-unknown-key-unknown-12',
        `tsr_${Buffer.alloc(52, 1).toString('base64url')}`,
        forgedJwt,
        'not a token at all',
      ]) {
        const response = await introspect(token)
        expect(response.status).toBe(200)
        expect(response.body).toEqual({ active: false })
      }
    })

    it('a token that was tampered with is inactive', async () => {
      const tokens = await login(server)
      const [header, , signature] = tokens.access_token.split('.')
      const claims = { ...decodeJwt(tokens.access_token), scope: 'read write admin superuser' }
      const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`
      expect((await introspect(forged)).body).toEqual({ active: false })
    })

    it('requires client authentication: 401 invalid_client otherwise', async () => {
      const tokens = await login(server)
      const none = await introspect(tokens.access_token, {})
      expect(none.status).toBe(401)
      expect(none.body.error).toBe('invalid_client')
      expect(none.headers['www-authenticate']).toMatch(/^Basic realm="tessera"/)
      const wrong = await introspect(tokens.access_token, {
        authorization: basic('svc', 'not-the-secret-at-all'),
      })
      expect(wrong.status).toBe(401)
      expect(wrong.body.error).toBe('invalid_client')
      expect(wrong.body).not.toHaveProperty('active')
      const unknown = await introspect(tokens.access_token, {
        authorization: basic('ghost', 'not-the-secret-at-all'),
      })
      expect(unknown.status).toBe(401)
      expect(unknown.body).toEqual(wrong.body)
    })

    it('a missing token parameter is 400 invalid_request', async () => {
      const response = await postForm(
        server.app,
        '/oauth/introspect',
        {},
        { authorization: basic('svc', SVC_SECRET) },
      )
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('invalid_request')
    })
  })
}
