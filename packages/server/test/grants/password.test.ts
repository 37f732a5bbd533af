import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient, createUser, disableUser } from '../../src/admin.js'
import { DIALECTS } from '../support/dialects.js'
import { login, PASSWORD, startTestServer, type TestServer } from '../support/server.js'

const MAX_FAILURES = 3

function signIn(server: TestServer, form: Record<string, string>, remoteAddress = '127.0.0.1') {
  return server.app
    .inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'password', client_id: 'web', ...form }).toString(),
    })
    .then((response) => ({
      status: response.statusCode,
      headers: response.headers,
      body: response.json() as Record<string, unknown>,
    }))
}

for (const dialect of DIALECTS) {
  describe(`password grant (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect, config: { loginMaxFailures: MAX_FAILURES } })
    })
    afterEach(async () => {
      await server.close()
    })

    it('signs in and issues an RFC 9068 access token with every claim', async () => {
      const tokens = await login(server)
      const header = decodeProtectedHeader(tokens.access_token)
      expect(header.typ).toBe('at+jwt')
      expect(header.alg).toBe(server.config.signingAlg)
      const jwks = JSON.parse(server.app.tessera.keys.jwksJson) as { keys: { kid: string }[] }
      expect(jwks.keys.map((k) => k.kid)).toContain(header.kid)

      const claims = decodeJwt(tokens.access_token)
      const now = Math.floor(server.clock.now() / 1000)
      expect(claims).toEqual({
        iss: server.config.issuer,
        sub: server.user.id,
        aud: server.config.audience,
        exp: now + 900,
        iat: now,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        client_id: 'web',
        scope: 'read write admin',
        sid: expect.any(String),
        roles: ['user'],
      })
      const session = await server.app.tessera.store.findSession(claims.sid as string)
      expect(session).toMatchObject({ userId: server.user.id, clientId: 'web', scope: 'read write admin' })
      expect(tokens.expires_in).toBe(900)
    })

    it('every access token has its own jti', async () => {
      const a = decodeJwt((await login(server)).access_token)
      const b = decodeJwt((await login(server)).access_token)
      expect(a.jti).not.toBe(b.jti)
      expect(a.sid).not.toBe(b.sid)
    })

    it('a wrong password and an unknown user get the identical invalid_grant answer', async () => {
      const wrong = await signIn(server, { username: 'alice', password: 'not-her-password' })
      const unknown = await signIn(server, { username: 'mallory', password: 'not-her-password' })
      expect(wrong.status).toBe(400)
      expect(wrong.body.error).toBe('invalid_grant')
      expect(wrong.headers['cache-control']).toBe('no-store')
      expect(unknown.status).toBe(wrong.status)
      expect(unknown.body).toEqual(wrong.body)
    })

    it('a disabled user is refused with the same invalid_grant answer', async () => {
      const wrong = await signIn(server, { username: 'alice', password: 'not-her-password' })
      await disableUser(server.admin, 'alice')
      const disabled = await signIn(server, { username: 'alice', password: PASSWORD })
      expect(disabled.status).toBe(400)
      expect(disabled.body).toEqual(wrong.body)
    })

    it('a missing username or password is 400 invalid_request', async () => {
      const noPassword = await signIn(server, { username: 'alice' })
      expect(noPassword.status).toBe(400)
      expect(noPassword.body.error).toBe('invalid_request')
      const noUsername = await signIn(server, { password: PASSWORD })
      expect(noUsername.status).toBe(400)
      expect(noUsername.body.error).toBe('invalid_request')
    })

    it('grants a requested subset of the client scopes', async () => {
      const response = await signIn(server, { username: 'alice', password: PASSWORD, scope: 'read' })
      expect(response.status).toBe(200)
      expect(response.body.scope).toBe('read')
      expect(decodeJwt(response.body.access_token as string).scope).toBe('read')
    })

    it('a scope outside the client registration is 400 invalid_scope', async () => {
      const response = await signIn(server, { username: 'alice', password: PASSWORD, scope: 'read delete' })
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('invalid_scope')
    })

    it('a scope with characters RFC 6749 §3.3 does not allow is 400 invalid_request', async () => {
      const response = await signIn(server, { username: 'alice', password: PASSWORD, scope: 'read "write"' })
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('invalid_request')
    })

    it('a client without the refresh_token grant gets an access token and no refresh_token', async () => {
      await createClient(server.admin, {
        id: 'kiosk',
        isPublic: true,
        grantTypes: ['password'],
        scopes: ['read'],
        redirectUris: [],
      })
      const response = await signIn(server, { client_id: 'kiosk', username: 'alice', password: PASSWORD })
      expect(response.status).toBe(200)
      expect(response.body).not.toHaveProperty('refresh_token')
      expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'read' })
      const claims = decodeJwt(response.body.access_token as string)
      expect(claims.sid).toBeUndefined()
      expect(claims.roles).toEqual(['user'])
      expect(claims.sub).toBe(server.user.id)
    })

    it('records login_succeeded and login_failed audit rows without the password', async () => {
      await login(server)
      await signIn(server, { username: 'alice', password: 'not-her-password' })
      await signIn(server, { username: 'mallory', password: 'not-her-password' })
      const succeeded = await server.app.tessera.store.listAudit({ type: 'login_succeeded' })
      expect(succeeded).toHaveLength(1)
      expect(succeeded[0]).toMatchObject({ userId: server.user.id, clientId: 'web', ip: '127.0.0.1' })
      const failed = await server.app.tessera.store.listAudit({ type: 'login_failed' })
      expect(failed).toHaveLength(2)
      expect(failed.map((row) => row.detail?.reason).sort()).toEqual(['unknown_user', 'wrong_password'])
      expect(JSON.stringify([...succeeded, ...failed])).not.toMatch(/not-her-password|correct horse/)
    })

    describe('brute-force limits', () => {
      it(`after ${MAX_FAILURES} failures a user gets 429 with Retry-After, even with the right password`, async () => {
        for (let i = 0; i < MAX_FAILURES; i++) {
          const failed = await signIn(server, { username: 'alice', password: `guess-${i}` })
          expect(failed.status).toBe(400)
          expect(failed.body.error).toBe('invalid_grant')
        }
        const limited = await signIn(server, { username: 'alice', password: PASSWORD })
        expect(limited.status).toBe(429)
        expect(limited.body.error).toBe('too_many_requests')
        expect(limited.headers['cache-control']).toBe('no-store')
        const retryAfter = Number(limited.headers['retry-after'])
        expect(Number.isInteger(retryAfter)).toBe(true)
        expect(retryAfter).toBeGreaterThan(0)
        expect(retryAfter).toBeLessThanOrEqual(15 * 60)
        // the username is matched without regard to case
        expect((await signIn(server, { username: 'ALICE', password: PASSWORD })).status).toBe(429)
      })

      it('a limited user does not lock out another user signing in from the same address', async () => {
        await createUser(server.admin, { username: 'bob', password: 'bobs-password-123', roles: [] })
        for (let i = 0; i < MAX_FAILURES; i++)
          await signIn(server, { username: 'alice', password: `guess-${i}` })
        expect((await signIn(server, { username: 'alice', password: PASSWORD })).status).toBe(429)
        const bob = await signIn(server, { username: 'bob', password: 'bobs-password-123' })
        expect(bob.status).toBe(200)
      })

      it('a correct password resets the user’s failure count', async () => {
        for (let i = 0; i < MAX_FAILURES - 1; i++)
          await signIn(server, { username: 'alice', password: `guess-${i}` })
        expect((await signIn(server, { username: 'alice', password: PASSWORD })).status).toBe(200)
        for (let i = 0; i < MAX_FAILURES - 1; i++)
          await signIn(server, { username: 'alice', password: `guess-${i}` })
        expect((await signIn(server, { username: 'alice', password: PASSWORD })).status).toBe(200)
      })

      it(`one address gets 429 after ${MAX_FAILURES * 10} failures across many usernames; others still sign in`, async () => {
        const attacker = '198.51.100.66'
        for (let i = 0; i < MAX_FAILURES * 10; i++) {
          const failed = await signIn(server, { username: `user-${i}`, password: 'spray-password' }, attacker)
          expect(failed.status).toBe(400)
        }
        const limited = await signIn(server, { username: 'alice', password: PASSWORD }, attacker)
        expect(limited.status).toBe(429)
        expect(limited.body.error).toBe('too_many_requests')
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
        const elsewhere = await signIn(server, { username: 'alice', password: PASSWORD }, '203.0.113.9')
        expect(elsewhere.status).toBe(200)
      })

      it('refusals are counted in tessera_rate_limited_total by limiter', async () => {
        for (let i = 0; i < MAX_FAILURES; i++)
          await signIn(server, { username: 'alice', password: `guess-${i}` })
        await signIn(server, { username: 'alice', password: PASSWORD })
        await signIn(server, { username: 'alice', password: PASSWORD })
        const metrics = await server.app.inject({ url: '/metrics' })
        expect(metrics.body).toMatch(/^tessera_rate_limited_total\{limiter="login_user"\} 2$/m)
      })

      it('a refused attempt writes a login_rate_limited audit row, not another login_failed', async () => {
        for (let i = 0; i < MAX_FAILURES; i++)
          await signIn(server, { username: 'alice', password: `guess-${i}` })
        await signIn(server, { username: 'alice', password: 'guess-more' })
        const failed = await server.app.tessera.store.listAudit({ type: 'login_failed' })
        expect(failed).toHaveLength(MAX_FAILURES)
        const limited = await server.app.tessera.store.listAudit({ type: 'login_rate_limited' })
        expect(limited).toHaveLength(1)
        expect(limited[0]).toMatchObject({ clientId: 'web', ip: '127.0.0.1' })
        expect(JSON.stringify(limited)).not.toContain('guess-more')
      })
    })
  })
}

describe('password grant with configured lifetimes and audience', () => {
  it('access tokens carry TESSERA_AUDIENCE and last TESSERA_ACCESS_TOKEN_TTL seconds', async () => {
    const server = await startTestServer({
      config: { audience: 'https://api.example.com', accessTokenTtl: 60 },
    })
    try {
      const tokens = await login(server)
      expect(tokens.expires_in).toBe(60)
      const claims = decodeJwt(tokens.access_token)
      expect(claims.aud).toBe('https://api.example.com')
      expect(claims.iss).toBe(server.config.issuer)
      expect(claims.exp! - claims.iat!).toBe(60)
      const me = () =>
        server.app.inject({ url: '/me', headers: { authorization: `Bearer ${tokens.access_token}` } })
      expect((await me()).statusCode).toBe(200)
      // 5 s of clock tolerance, then refused
      server.clock.advance(66)
      expect((await me()).statusCode).toBe(401)
      const session = await server.app.tessera.store.findSession(claims.sid as string)
      expect(session!.absoluteExpiresAt - session!.createdAt).toBe(server.config.refreshAbsoluteTtl * 1000)
      expect(session!.idleExpiresAt - session!.createdAt).toBe(server.config.refreshIdleTtl * 1000)
    } finally {
      await server.close()
    }
  })
})
