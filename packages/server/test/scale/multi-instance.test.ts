import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seed } from '../proof/serve-cluster.js'
import { createTestDatabase, REDIS_URL, scaleOutAvailable } from '../support/dialects.js'
import { runTessera, type ServeProcess, spawnServe } from '../support/processes.js'
import { freePort, PASSWORD, SECRET_KEY } from '../support/server.js'

const available = scaleOutAvailable()

async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  })
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, string>,
  }
}

/** Two `tessera serve` processes sharing one PostgreSQL database and one Redis. */
async function startPair(grace: number) {
  const database = await createTestDatabase('postgres')
  const prefix = `tessera-test-${randomBytes(4).toString('hex')}:`
  const env = {
    TESSERA_DATABASE_URL: database.url,
    TESSERA_REDIS_URL: REDIS_URL!,
    TESSERA_REDIS_PREFIX: prefix,
    TESSERA_SECRET_KEY: SECRET_KEY,
    TESSERA_ISSUER: 'http://tessera.test',
    TESSERA_REFRESH_REUSE_GRACE: String(grace),
    TESSERA_DATA_DIR: database.dataDir,
  }
  await seed(env)
  const [a, b] = await Promise.all([spawnServe(await freePort(), env), spawnServe(await freePort(), env)])
  return {
    a: a as ServeProcess,
    b: b as ServeProcess,
    env,
    async close() {
      await Promise.all([a.stop(), b.stop()])
      const redis = new Redis(REDIS_URL!)
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
      await database.drop()
    },
  }
}

type Pair = Awaited<ReturnType<typeof startPair>>

const login = async (server: ServeProcess, username = 'alice') =>
  post(`${server.url}/oauth/token`, {
    grant_type: 'password',
    client_id: 'web',
    username,
    password: PASSWORD,
  })

const refreshOn = (server: ServeProcess, token: string) =>
  post(`${server.url}/oauth/token`, { grant_type: 'refresh_token', client_id: 'web', refresh_token: token })

describe.skipIf(!available)('two instances, one PostgreSQL, one Redis', () => {
  describe('with grace 0', () => {
    let pair: Pair
    beforeAll(async () => {
      pair = await startPair(0)
    }, 60_000)
    afterAll(async () => {
      await pair?.close()
    })

    it('parallel refreshes of one token split across both instances give exactly one 200', async () => {
      const token = (await login(pair.a)).body.refresh_token!
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => refreshOn(i % 2 ? pair.a : pair.b, token)),
      )
      expect(results.filter((r) => r.status === 200)).toHaveLength(1)
      expect(results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant')).toHaveLength(39)
    })
  })

  describe('with the default grace', () => {
    let pair: Pair
    beforeAll(async () => {
      pair = await startPair(10)
    }, 60_000)
    afterAll(async () => {
      await pair?.close()
    })

    it('parallel refreshes split across both instances return the identical successor', async () => {
      const token = (await login(pair.a)).body.refresh_token!
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => refreshOn(i % 2 ? pair.a : pair.b, token)),
      )
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200))
      expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1)
    })

    it('a password brute force spread across both instances is limited as one', async () => {
      for (let i = 0; i < 10; i++) {
        const result = await post(`${(i % 2 ? pair.a : pair.b).url}/oauth/token`, {
          grant_type: 'password',
          client_id: 'web',
          username: 'bob',
          password: `wrong-${i}`,
        })
        expect(result.status).toBe(400)
      }
      for (const server of [pair.a, pair.b]) {
        const limited = await login(server, 'bob')
        expect(limited.status).toBe(429)
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      }
    })

    it('keys rotate run against one is served by the other within a second, and signs on both once active', async () => {
      const rotated = await runTessera(['keys', 'rotate', '--activate-in', '2', '--json'], pair.env)
      expect(rotated.status).toBe(0)
      const { kid } = JSON.parse(rotated.stdout) as { kid: string }
      const started = Date.now()
      let seen = false
      while (Date.now() - started < 1000) {
        const jwks = (await (await fetch(`${pair.b.url}/.well-known/jwks.json`)).json()) as {
          keys: { kid: string }[]
        }
        if (jwks.keys.some((k) => k.kid === kid)) {
          seen = true
          break
        }
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(seen).toBe(true)
      const kidOf = (token: string) =>
        (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid
      // Published first, signing later: verifiers learn the key before they meet a token it signed.
      expect(kidOf((await login(pair.a)).body.access_token!)).not.toBe(kid)
      await new Promise((r) => setTimeout(r, 3200))
      expect(kidOf((await login(pair.a)).body.access_token!)).toBe(kid)
      expect(kidOf((await login(pair.b)).body.access_token!)).toBe(kid)
    })

    it('a session revoked through one instance is dead on the other', async () => {
      const tokens = (await login(pair.a)).body
      const logout = await fetch(`${pair.a.url}/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })
      expect(logout.status).toBe(204)
      const me = await fetch(`${pair.b.url}/me`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })
      expect(me.status).toBe(401)
      const refreshed = await refreshOn(pair.b, tokens.refresh_token!)
      expect(refreshed.body.error).toBe('invalid_grant')
    })

    it('/readyz on each instance reports the database and Redis', async () => {
      for (const server of [pair.a, pair.b]) {
        const ready = (await (await fetch(`${server.url}/readyz`)).json()) as {
          status: string
          checks: Record<string, string>
        }
        expect(ready).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } })
      }
    })
  })
})
