import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient, createUser } from '../../src/admin.js'
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

interface SessionView {
  id: string
  client_id: string
  scope: string
  created_at: string
  last_used_at: string
  expires_at: string
  user_agent: string | null
  ip: string | null
  current: boolean
}

for (const dialect of DIALECTS) {
  describe(`account API (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token?: string) =>
      server.app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} })
    const sessionsOf = async (token: string) =>
      ((await call('GET', '/sessions', token)).json() as { sessions: SessionView[] }).sessions

    it('GET /me describes the user behind the access token', async () => {
      const tokens = await login(server)
      const response = await call('GET', '/me', tokens.access_token)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({
        sub: server.user.id,
        username: 'alice',
        roles: ['user'],
        client_id: 'web',
        scope: 'read write admin',
        sid: decodeJwt(tokens.access_token).sid,
      })
    })

    it("GET /sessions lists the user's active sessions and marks the current one", async () => {
      const phone = await login(server)
      const laptop = await login(server)
      await createUser(server.admin, { username: 'bob', password: 'bobs-password-123', roles: [] })
      await login(server, { username: 'bob', password: 'bobs-password-123' })
      const response = await call('GET', '/sessions', phone.access_token)
      expect(response.statusCode).toBe(200)
      const sessions = (response.json() as { sessions: SessionView[] }).sessions
      expect(sessions).toHaveLength(2)
      const current = sessions.filter((s) => s.current)
      expect(current).toHaveLength(1)
      expect(current[0]?.id).toBe(decodeJwt(phone.access_token).sid)
      expect(sessions.map((s) => s.id)).toContain(decodeJwt(laptop.access_token).sid)
      expect(current[0]).toMatchObject({ client_id: 'web', scope: 'read write admin', ip: '127.0.0.1' })
      expect(new Date(current[0]!.expires_at).getTime()).toBeGreaterThan(server.clock.now())
      expect(JSON.stringify(sessions)).not.toMatch(/tsr_|refresh_token/)
    })

    it('GET /sessions leaves out revoked sessions', async () => {
      const phone = await login(server)
      const laptop = await login(server)
      await postForm(server.app, '/oauth/revoke', { token: laptop.refresh_token, client_id: 'web' })
      const sessions = await sessionsOf(phone.access_token)
      expect(sessions.map((s) => s.id)).toEqual([decodeJwt(phone.access_token).sid])
    })

    it('DELETE /sessions/{id} is 204, then that session cannot refresh and its access token is refused', async () => {
      const phone = await login(server)
      const laptop = await login(server)
      const laptopSid = decodeJwt(laptop.access_token).sid as string
      const response = await call('DELETE', `/sessions/${laptopSid}`, phone.access_token)
      expect(response.statusCode).toBe(204)
      expect(response.body).toBe('')
      const refreshed = await refresh(server, laptop.refresh_token)
      expect(refreshed.status).toBe(400)
      expect(refreshed.body.error).toBe('invalid_grant')
      const refused = await call('GET', '/me', laptop.access_token)
      expect(refused.statusCode).toBe(401)
      expect(refused.json().error).toBe('invalid_token')
      // the session that asked is untouched
      expect((await call('GET', '/me', phone.access_token)).statusCode).toBe(200)
      expect((await refresh(server, phone.refresh_token)).status).toBe(200)
    })

    it("DELETE /sessions/{id} of someone else's session is 404 and leaves it alone", async () => {
      await createUser(server.admin, { username: 'bob', password: 'bobs-password-123', roles: [] })
      const bob = await login(server, { username: 'bob', password: 'bobs-password-123' })
      const alice = await login(server)
      const response = await call(
        'DELETE',
        `/sessions/${decodeJwt(bob.access_token).sid}`,
        alice.access_token,
      )
      expect(response.statusCode).toBe(404)
      expect(response.json().error).toBe('not_found')
      expect((await refresh(server, bob.refresh_token)).status).toBe(200)
    })

    it('DELETE /sessions/{id} of an unknown or already revoked session is 404', async () => {
      const phone = await login(server)
      const laptop = await login(server)
      const laptopSid = decodeJwt(laptop.access_token).sid as string
      expect((await call('DELETE', '/sessions/no-such-session', phone.access_token)).statusCode).toBe(404)
      expect((await call('DELETE', `/sessions/${laptopSid}`, phone.access_token)).statusCode).toBe(204)
      expect((await call('DELETE', `/sessions/${laptopSid}`, phone.access_token)).statusCode).toBe(404)
    })

    it('POST /logout is 204 and ends this session and its access token', async () => {
      const tokens = await login(server)
      const other = await login(server)
      const response = await call('POST', '/logout', tokens.access_token)
      expect(response.statusCode).toBe(204)
      expect((await call('GET', '/me', tokens.access_token)).statusCode).toBe(401)
      expect((await refresh(server, tokens.refresh_token)).body.error).toBe('invalid_grant')
      expect((await call('GET', '/me', other.access_token)).statusCode).toBe(200)
      const audit = await server.app.tessera.store.listAudit({ type: 'session_revoked' })
      expect(audit.map((row) => row.detail?.reason)).toEqual(['logout'])
    })

    it('POST /logout with a token that has no session denies that token', async () => {
      await createClient(server.admin, {
        id: 'kiosk',
        isPublic: true,
        grantTypes: ['password'],
        scopes: ['read'],
        redirectUris: [],
      })
      const signedIn = await postForm(server.app, '/oauth/token', {
        grant_type: 'password',
        client_id: 'kiosk',
        username: 'alice',
        password: PASSWORD,
      })
      const token = signedIn.body.access_token as string
      expect((await call('POST', '/logout', token)).statusCode).toBe(204)
      expect((await call('GET', '/me', token)).statusCode).toBe(401)
    })

    it('POST /logout/all ends every session of the user, and only theirs', async () => {
      await createUser(server.admin, { username: 'bob', password: 'bobs-password-123', roles: [] })
      const bob = await login(server, { username: 'bob', password: 'bobs-password-123' })
      const phone = await login(server)
      const laptop = await login(server)
      const response = await call('POST', '/logout/all', phone.access_token)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ revoked: 2 })
      for (const tokens of [phone, laptop]) {
        expect((await call('GET', '/me', tokens.access_token)).statusCode).toBe(401)
        expect((await refresh(server, tokens.refresh_token)).body.error).toBe('invalid_grant')
      }
      expect((await call('GET', '/me', bob.access_token)).statusCode).toBe(200)
      expect((await refresh(server, bob.refresh_token)).status).toBe(200)
    })

    describe('bearer authentication, RFC 6750 §3', () => {
      for (const [method, url] of [
        ['GET', '/me'],
        ['GET', '/sessions'],
        ['DELETE', '/sessions/abc'],
        ['POST', '/logout'],
        ['POST', '/logout/all'],
      ] as const) {
        it(`${method} ${url} without a bearer token is 401 with a challenge that carries no error code`, async () => {
          const response = await call(method, url)
          expect(response.statusCode).toBe(401)
          expect(response.headers['www-authenticate']).toBe('Bearer realm="tessera"')
          expect(response.headers['cache-control']).toBe('no-store')
        })
      }

      it('a bad token is 401 with error="invalid_token" in the challenge and the body', async () => {
        for (const token of ['not-a-jwt', 'a.b.c', `${(await login(server)).access_token}x`]) {
          const response = await call('GET', '/me', token)
          expect(response.statusCode).toBe(401)
          expect(response.headers['www-authenticate']).toBe('Bearer realm="tessera", error="invalid_token"')
          expect(response.json().error).toBe('invalid_token')
        }
      })

      it('an expired token is 401 invalid_token', async () => {
        const tokens = await login(server)
        server.clock.advance(900 + 6)
        const response = await call('GET', '/me', tokens.access_token)
        expect(response.statusCode).toBe(401)
        expect(response.json().error).toBe('invalid_token')
      })

      it('another scheme than Bearer is 401 invalid_token', async () => {
        const response = await server.app.inject({
          url: '/me',
          headers: { authorization: basic('alice', 'x') },
        })
        expect(response.statusCode).toBe(401)
        expect(response.json().error).toBe('invalid_token')
      })

      it('a refresh token is not an access token: 401 invalid_token', async () => {
        const tokens = await login(server)
        const response = await call('GET', '/me', tokens.refresh_token)
        expect(response.statusCode).toBe(401)
        expect(response.json().error).toBe('invalid_token')
      })

      it('a client_credentials token is 403: there is no user behind it', async () => {
        const issued = await postForm(
          server.app,
          '/oauth/token',
          { grant_type: 'client_credentials' },
          { authorization: basic('svc', SVC_SECRET) },
        )
        for (const [method, url] of [
          ['GET', '/me'],
          ['GET', '/sessions'],
          ['POST', '/logout/all'],
        ] as const) {
          const response = await call(method, url, issued.body.access_token as string)
          expect(response.statusCode, url).toBe(403)
          expect(response.json().error).toBe('access_denied')
        }
      })
    })
  })
}
