import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/dialects.js'
import { login, refresh, startTestServer, type TestServer } from '../support/server.js'

for (const dialect of DIALECTS) {
  describe(`a server clock that jumps (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    it('jumping back an hour neither errors nor forks: rotation goes on from the live token', async () => {
      const { refresh_token: t0 } = await login(server)
      const t1 = (await refresh(server, t0)).body.refresh_token as string
      server.clock.advance(-3600)
      // The rotation now seems to lie in the future: a retry of t0 counts as age 0, never a second branch.
      const retry = await refresh(server, t0)
      expect(retry.status).toBe(200)
      expect(retry.body.refresh_token).toBe(t1)
      const t2 = await refresh(server, t1)
      expect(t2.status).toBe(200)
      expect((await refresh(server, t2.body.refresh_token as string)).status).toBe(200)
    })

    it('jumping forward past the grace window makes an old token a replay, and past the idle lifetime ends the session', async () => {
      const { refresh_token: t0 } = await login(server)
      const t1 = (await refresh(server, t0)).body.refresh_token as string
      server.clock.advance(server.config.refreshReuseGrace + 1)
      const t2 = (await refresh(server, t1)).body.refresh_token as string
      server.clock.advance(server.config.refreshIdleTtl + 1)
      const expired = await refresh(server, t2)
      expect(expired.status).toBe(400)
      expect(expired.body.error).toBe('invalid_grant')
      server.clock.advance(-(server.config.refreshIdleTtl + 1))
      // Back within the lifetime, the session is still whole: nothing was lost while the clock ran ahead.
      expect((await refresh(server, t2)).status).toBe(200)
    })
  })
}
