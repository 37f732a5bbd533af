import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scaleOutAvailable } from '../support/dialects.js'
import type { ServeProcess } from '../support/processes.js'
import { PASSWORD } from '../support/server.js'
import { postForm, proofRuns, proofSeed, refreshTokenParts, seededRandom } from './proof-settings.js'
import { readSession, startPair } from './serve-cluster.js'

const available = scaleOutAvailable()

type Pair = Awaited<ReturnType<typeof startPair>>

interface Exchange {
  presented: string
  status: number
  returned?: string
  error?: string
}

const CLIENTS = 6

const signIn = async (server: ServeProcess) => {
  const result = await postForm(`${server.url}/oauth/token`, {
    grant_type: 'password',
    client_id: 'web',
    username: 'alice',
    password: PASSWORD,
  })
  expect(result.status).toBe(200)
  return result.body.refresh_token!
}

const refreshOn = (server: ServeProcess, token: string, signal?: AbortSignal) =>
  postForm(
    `${server.url}/oauth/token`,
    { grant_type: 'refresh_token', client_id: 'web', refresh_token: token },
    signal ? { signal } : {},
  )

const gen = (token: string) => refreshTokenParts(token).generation

/*
 * Honest clients are the tabs of one browser sharing one session: each round every client
 * presents the newest token the tabs know, some send it twice at once (to both instances), some
 * drop the answer (abort mid-flight) and retry the same token, and one keeps going with the token
 * it got back. So no honest request ever presents a token more than two generations old — the
 * window SPEC §6's grace covers — and every one of them must succeed.
 */
describe.skipIf(!available)('honest clients racing one session across two instances', () => {
  let pair: Pair
  const exchanges: Exchange[] = []
  const figures = { rounds: 0, requests: 0, duplicated: 0, dropped: 0, followUps: 0 }
  beforeAll(async () => {
    pair = await startPair(10)
  }, 60_000)
  afterAll(async () => {
    console.info(`race: ${JSON.stringify(figures)}`)
    await pair?.close()
  })

  it('never forks the session and keeps every honest client signed in', async () => {
    const random = seededRandom(proofSeed('race'))
    const instance = () => pair.instances[random.int(2)]!
    let newest = await signIn(pair.instances[0])
    const sessionId = refreshTokenParts(newest).sessionId
    const latest: string[] = Array(CLIENTS).fill(newest)

    const exchange = async (token: string, signal?: AbortSignal, server = instance()) => {
      figures.requests += 1
      const result = await refreshOn(server, token, signal)
      const record: Exchange = { presented: token, status: result.status }
      if (result.status === 200) record.returned = result.body.refresh_token!
      else record.error = result.body.error!
      exchanges.push(record)
      return record
    }

    const rounds = proofRuns(40)
    for (let round = 0; round < rounds; round++) {
      figures.rounds += 1
      const token = newest
      const keeper = random.int(CLIENTS)
      const plans = Array.from({ length: CLIENTS }, (_, c) =>
        c === keeper ? 'keep' : (['plain', 'duplicate', 'drop'] as const)[random.int(3)]!,
      )
      const delays = plans.map(() => random.int(6))
      await Promise.all(
        plans.map(async (plan, c) => {
          await new Promise((r) => setTimeout(r, delays[c]))
          if (plan === 'duplicate') {
            figures.duplicated += 1
            const [one, two] = await Promise.all([exchange(token), exchange(token)])
            latest[c] = (two.returned ?? one.returned)!
            return
          }
          // The retry of a dropped answer goes to the same instance, so the abandoned request is
          // handled no later than its retry and stays inside the round (and the grace bound).
          const server = instance()
          if (plan === 'drop') {
            figures.dropped += 1
            const abort = new AbortController()
            const timer = setTimeout(() => abort.abort(), random.int(8))
            try {
              await exchange(token, abort.signal, server)
            } catch {}
            clearTimeout(timer)
          }
          const first = await exchange(token, undefined, server)
          latest[c] = first.returned!
          if (plan === 'keep' && first.returned) {
            figures.followUps += 1
            latest[c] = (await exchange(first.returned)).returned!
          }
        }),
      )
      for (const t of latest) if (t !== undefined && gen(t) > gen(newest)) newest = t
      const phase = exchanges.filter((e) => e.presented === token && e.returned)
      for (const e of phase) expect([gen(token) + 1, gen(token) + 2]).toContain(gen(e.returned!))
    }

    // Every honest request succeeded.
    expect(exchanges.filter((e) => e.status !== 200)).toEqual([])
    // One token per generation: no parent ever had two different successors.
    const byGeneration = new Map<number, Set<string>>()
    for (const e of exchanges) {
      const parts = refreshTokenParts(e.returned!)
      expect(parts.sessionId).toBe(sessionId)
      expect(parts.generation).toBeGreaterThan(gen(e.presented))
      byGeneration.set(parts.generation, (byGeneration.get(parts.generation) ?? new Set()).add(e.returned!))
    }
    for (const tokens of byGeneration.values()) expect(tokens.size).toBe(1)
    // The chain is unbroken and the database holds exactly its end.
    const row = await readSession(pair.env, sessionId)
    expect(row?.revokedAt).toBeNull()
    expect([...byGeneration.keys()].sort((x, y) => x - y)).toEqual(
      Array.from({ length: row!.generation }, (_, i) => i + 1),
    )
    expect(gen(newest)).toBe(row!.generation)
    expect(row!.generation).toBeGreaterThanOrEqual(rounds)
    expect(row!.generation).toBeLessThanOrEqual(2 * rounds)
    // Every honest client is still signed in: its latest token refreshes.
    for (const [c, token] of latest.entries()) {
      const result = await refreshOn(pair.instances[c % 2]!, token)
      expect(result.status, `client ${c}`).toBe(200)
    }
  }, 60_000)
})

describe.skipIf(!available)('a replay after the grace window across two instances', () => {
  let pair: Pair
  beforeAll(async () => {
    pair = await startPair(1)
  }, 60_000)
  afterAll(async () => {
    await pair?.close()
  })

  it('is detected: invalid_grant, and the session is revoked on both instances', async () => {
    const [a, b] = pair.instances
    const t0 = await signIn(a)
    const firsts = await Promise.all([refreshOn(a, t0), refreshOn(b, t0), refreshOn(a, t0)])
    expect(new Set(firsts.map((r) => r.body.refresh_token)).size).toBe(1)
    const t1 = firsts[0]!.body.refresh_token!
    const t2 = (await refreshOn(b, t1)).body.refresh_token!
    await new Promise((r) => setTimeout(r, 1500))
    const replay = await refreshOn(a, t1)
    expect(replay.status).toBe(400)
    expect(replay.body.error).toBe('invalid_grant')
    const row = await readSession(pair.env, refreshTokenParts(t0).sessionId)
    expect(row?.revokedAt).not.toBeNull()
    expect(row?.revokedReason).toBe('refresh_reuse')
    for (const server of [a, b]) {
      const current = await refreshOn(server, t2)
      expect(current.status).toBe(400)
      expect(current.body.error).toBe('invalid_grant')
    }
  }, 30_000)
})
