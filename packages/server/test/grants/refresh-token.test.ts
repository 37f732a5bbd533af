import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/dialects.js'
import { login, PASSWORD, refresh, startTestServer, type TestServer } from '../support/server.js'

for (const dialect of DIALECTS) {
  describe(`refresh_token grant (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    it('rotates: every refresh returns a new refresh token and a new access token', async () => {
      const first = await login(server)
      expect(first.refresh_token).toMatch(/^tsr_[A-Za-z0-9_-]{70}$/)
      const second = await refresh(server, first.refresh_token)
      expect(second.status).toBe(200)
      expect(second.headers['cache-control']).toBe('no-store')
      expect(second.body.refresh_token).not.toBe(first.refresh_token)
      expect(second.body.access_token).not.toBe(first.access_token)
      const third = await refresh(server, second.body.refresh_token as string)
      expect(third.status).toBe(200)
    })

    it('a retry within the grace window returns the identical successor', async () => {
      const { refresh_token } = await login(server)
      const a = await refresh(server, refresh_token)
      server.clock.advance(5)
      const b = await refresh(server, refresh_token)
      expect(b.status).toBe(200)
      expect(b.body.refresh_token).toBe(a.body.refresh_token)
    })

    it('a retry within grace after the session moved on returns the current token, never a fork', async () => {
      const { refresh_token: t0 } = await login(server)
      const t1 = (await refresh(server, t0)).body.refresh_token as string
      const t2 = (await refresh(server, t1)).body.refresh_token as string
      const retry = await refresh(server, t0)
      expect(retry.status).toBe(200)
      expect(retry.body.refresh_token).toBe(t2)
      expect((await refresh(server, t2)).status).toBe(200)
    })

    it('a reused refresh token after the grace window revokes the whole session', async () => {
      const { refresh_token: t0 } = await login(server)
      const t1 = (await refresh(server, t0)).body.refresh_token as string
      server.clock.advance(11)
      const reuse = await refresh(server, t0)
      expect(reuse.status).toBe(400)
      expect(reuse.body.error).toBe('invalid_grant')
      const successor = await refresh(server, t1)
      expect(successor.status).toBe(400)
      expect(successor.body.error).toBe('invalid_grant')
      const audit = await server.app.tessera.store.listAudit({ type: 'refresh_reuse_detected' })
      expect(audit).toHaveLength(1)
      const metrics = await server.app.inject({ url: '/metrics' })
      expect(metrics.body).toMatch(/tessera_refresh_reuse_detected_total 1/)
    })

    it('the grace window starts when the presented token itself was rotated', async () => {
      const { refresh_token: t0 } = await login(server)
      const t1 = (await refresh(server, t0)).body.refresh_token as string
      server.clock.advance(8)
      const t2 = (await refresh(server, t1)).body.refresh_token as string
      server.clock.advance(4)
      // t0 was rotated 12 s ago: reuse, although t1 was rotated only 4 s ago.
      expect((await refresh(server, t0)).body.error).toBe('invalid_grant')
      expect((await refresh(server, t2)).body.error).toBe('invalid_grant')
    })

    it('access tokens of a session revoked for reuse are refused at once', async () => {
      const { refresh_token: t0 } = await login(server)
      const fresh = (await refresh(server, t0)).body
      server.clock.advance(11)
      await refresh(server, t0)
      const me = await server.app.inject({
        url: '/me',
        headers: { authorization: `Bearer ${fresh.access_token}` },
      })
      expect(me.statusCode).toBe(401)
      expect(me.headers['www-authenticate']).toContain('error="invalid_token"')
    })

    it('a refresh token presented by another client is invalid_grant', async () => {
      const { refresh_token } = await login(server)
      const other = await refresh(server, refresh_token, {
        client_id: 'svc',
        client_secret: 'svc-secret-0123456789',
      })
      expect(other.status).toBe(400)
      expect(other.body.error).toBe('invalid_grant')
      expect((await refresh(server, refresh_token)).status).toBe(200)
    })

    it('a narrower scope is granted and a broader one is invalid_scope without costing the token', async () => {
      const { refresh_token } = await login(server, { scope: 'read write' })
      const broader = await refresh(server, refresh_token, { scope: 'read admin' })
      expect(broader.status).toBe(400)
      expect(broader.body.error).toBe('invalid_scope')
      const narrower = await refresh(server, refresh_token, { scope: 'read' })
      expect(narrower.status).toBe(200)
      expect(narrower.body.scope).toBe('read')
      const again = await refresh(server, narrower.body.refresh_token as string)
      expect(again.body.scope).toBe('read write')
    })

    it('a session idle longer than the idle lifetime ends', async () => {
      const { refresh_token } = await login(server)
      server.clock.advance(server.config.refreshIdleTtl + 1)
      expect((await refresh(server, refresh_token)).body.error).toBe('invalid_grant')
    })

    it('use keeps a session alive, but never past its absolute lifetime', async () => {
      let { refresh_token: token } = await login(server)
      const step = server.config.refreshIdleTtl - 60
      let refreshes = 0
      for (;;) {
        server.clock.advance(step)
        const result = await refresh(server, token)
        if (result.status !== 200) {
          expect(result.body.error).toBe('invalid_grant')
          break
        }
        refreshes += 1
        token = result.body.refresh_token as string
      }
      expect(refreshes).toBe(Math.floor((server.config.refreshAbsoluteTtl - 1) / step))
    })

    it('garbage, truncated and forged refresh tokens are invalid_grant', async () => {
      const { refresh_token } = await login(server)
      const forged = `${refresh_token.slice(0, -2)}${refresh_token.endsWith('AA') ? 'AB' : 'AA'}`
      for (const token of ['nope', 'tsr_', refresh_token.slice(0, 40), forged]) {
        const result = await refresh(server, token)
        expect(result.status).toBe(400)
        expect(result.body.error).toBe('invalid_grant')
      }
      // The last character carries 2 data bits and 4 padding bits: a spelling with padding bits
      // set decodes to the very same bytes, and is still not the token.
      const last = 'AQgw'.indexOf(refresh_token.slice(-1))
      expect(last).toBeGreaterThanOrEqual(0)
      const respelled = `${refresh_token.slice(0, -1)}${'BRhx'[last]}`
      const other = await refresh(server, respelled)
      expect(other.status).toBe(400)
      expect(other.body.error).toBe('invalid_grant')
      const long = await refresh(server, `tsr_${'A'.repeat(5000)}`)
      expect(long.status).toBe(400)
      expect(long.body.error).toBe('invalid_request')
    })

    it('disabling the user revokes every session', async () => {
      const a = await login(server)
      const b = await login(server)
      await server.app.tessera.store.disableUser(server.user.id, server.clock.now())
      expect((await refresh(server, a.refresh_token)).body.error).toBe('invalid_grant')
      expect((await refresh(server, b.refresh_token)).body.error).toBe('invalid_grant')
    })

    it('changing the password revokes every session', async () => {
      const a = await login(server)
      const hash = await server.admin.passwords.hash(`${PASSWORD}!`)
      await server.app.tessera.store.changePassword(server.user.id, hash, server.clock.now())
      expect((await refresh(server, a.refresh_token)).body.error).toBe('invalid_grant')
    })

    it('the database never holds a usable refresh token', async () => {
      const { refresh_token } = await login(server)
      const { sql } = await import('kysely')
      const rows = await sql<Record<string, unknown>>`select * from sessions`.execute(
        (server.app.tessera.store as unknown as { db: Parameters<ReturnType<typeof sql>['execute']>[0] }).db,
      )
      const dump = JSON.stringify(rows.rows)
      expect(dump).not.toContain(refresh_token.slice(4))
      expect(dump).not.toContain(refresh_token.slice(-43))
    })
  })
}
