import { afterEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/dialects.js'
import { PASSWORD, startTestServer, type TestServer } from '../support/server.js'

async function post(url: string, form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  })
  return { status: response.status, body: (await response.json()) as Record<string, string> }
}

for (const dialect of DIALECTS) {
  describe(`refresh races over real sockets (${dialect})`, () => {
    let server: TestServer
    afterEach(async () => {
      await server.close()
    })

    async function signIn() {
      const result = await post(`${server.url}/oauth/token`, {
        grant_type: 'password',
        client_id: 'web',
        username: 'alice',
        password: PASSWORD,
      })
      return result.body.refresh_token!
    }

    const refreshAll = (token: string, n: number) =>
      Promise.all(
        Array.from({ length: n }, () =>
          post(`${server.url}/oauth/token`, {
            grant_type: 'refresh_token',
            client_id: 'web',
            refresh_token: token,
          }),
        ),
      )

    it('50 parallel refreshes of one token with grace 0 give exactly one 200', async () => {
      server = await startTestServer({ dialect, listen: true, config: { refreshReuseGrace: 0 } })
      const token = await signIn()
      const results = await refreshAll(token, 50)
      const ok = results.filter((r) => r.status === 200)
      expect(ok).toHaveLength(1)
      for (const r of results.filter((r) => r.status !== 200)) {
        expect(r.status).toBe(400)
        expect(r.body.error).toBe('invalid_grant')
      }
    })

    it('20 parallel refreshes within grace all return the identical successor', async () => {
      server = await startTestServer({ dialect, listen: true })
      const token = await signIn()
      const results = await refreshAll(token, 20)
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200))
      const successors = new Set(results.map((r) => r.body.refresh_token))
      expect(successors.size).toBe(1)
      const [successor] = successors
      expect(successor).not.toBe(token)
      const next = await refreshAll(successor!, 1)
      expect(next[0]!.status).toBe(200)
    })

    it('a reuse after grace kills the successor that won the race', async () => {
      server = await startTestServer({ dialect, listen: true })
      const token = await signIn()
      const [winner] = await refreshAll(token, 5)
      server.clock.advance(server.config.refreshReuseGrace + 1)
      const [reuse] = await refreshAll(token, 1)
      expect(reuse!.body.error).toBe('invalid_grant')
      const [dead] = await refreshAll(winner!.body.refresh_token!, 1)
      expect(dead!.status).toBe(400)
      expect(dead!.body.error).toBe('invalid_grant')
    })
  })
}
