import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/dialects.js'
import { type ServeProcess, spawnServe } from '../support/processes.js'
import { freePort, PASSWORD } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'
import { postForm, proofRuns, proofSeed, refreshTokenParts, seededRandom } from './proof-settings.js'
import { killHard, readSession, seed, serveEnv, stopWithin, USERNAMES } from './serve-cluster.js'

const GRACE = 10
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const gen = (token: string) => refreshTokenParts(token).generation

/** One signed-in client: every refresh token it was given in a 200, in order. */
interface Client {
  sessionId: string
  acknowledged: string[]
}
const latest = (c: Client) => c.acknowledged.at(-1)!

interface Figures {
  restarts: number
  acknowledged: number
  inFlightRotationsRecovered: number
  unavailable: number
  lostAcknowledgedRotations: number
  halfRotated: number
  violations: string[]
}

const newFigures = (): Figures => ({
  restarts: 0,
  acknowledged: 0,
  inFlightRotationsRecovered: 0,
  unavailable: 0,
  lostAcknowledgedRotations: 0,
  halfRotated: 0,
  violations: [],
})

async function signIn(url: string, username: string): Promise<Client> {
  const result = await postForm(`${url}/oauth/token`, {
    grant_type: 'password',
    client_id: 'web',
    username,
    password: PASSWORD,
  })
  expect(result.status).toBe(200)
  const token = result.body.refresh_token!
  return { sessionId: refreshTokenParts(token).sessionId, acknowledged: [token] }
}

const refreshOn = (url: string, token: string) =>
  postForm(`${url}/oauth/token`, { grant_type: 'refresh_token', client_id: 'web', refresh_token: token })

/**
 * One client refreshing in a loop, as fast as answers come, until `stop()` says so (bounded in
 * count and time). Every 200 must carry exactly the next generation: a sequential client never
 * sees a gap (a lost acknowledged rotation) or a repeat (a fork).
 */
async function drive(url: string, client: Client, stop: () => boolean, figures: Figures): Promise<void> {
  const deadline = Date.now() + 5000
  for (let i = 0; i < 2000 && !stop() && Date.now() < deadline; i++) {
    let result: Awaited<ReturnType<typeof refreshOn>>
    try {
      result = await refreshOn(url, latest(client))
    } catch {
      if (stop()) return
      await sleep(10)
      continue
    }
    if (result.status === 200) {
      const next = result.body.refresh_token!
      if (gen(next) !== gen(latest(client)) + 1)
        figures.violations.push(`generation ${gen(latest(client))} answered with ${gen(next)}`)
      client.acknowledged.push(next)
      figures.acknowledged += 1
    } else if (result.status === 503) {
      // Fail closed while the database is away: the token is kept and presented again.
      figures.unavailable += 1
      await sleep(20)
    } else {
      figures.violations.push(`${result.status} ${result.body.error} during load`)
      return
    }
  }
}

/**
 * After a crash or an outage: the database holds the last acknowledged generation or one more
 * (a rotation whose answer never arrived), never anything else, and the client's last
 * acknowledged token still works — by rotation, or by grace when its answer was lost.
 */
async function verifyRecovery(
  url: string,
  env: Record<string, string>,
  clients: Client[],
  figures: Figures,
): Promise<void> {
  for (const client of clients) {
    const row = await readSession(env, client.sessionId)
    const acknowledged = gen(latest(client))
    expect(row?.revokedAt).toBeNull()
    if (row!.generation < acknowledged) figures.lostAcknowledgedRotations += 1
    if (row!.generation > acknowledged + 1) figures.halfRotated += 1
    expect(row!.generation - acknowledged).toBeGreaterThanOrEqual(0)
    expect(row!.generation - acknowledged).toBeLessThanOrEqual(1)
    if (row!.generation === acknowledged + 1) figures.inFlightRotationsRecovered += 1
    let result = await refreshOn(url, latest(client))
    for (let i = 0; i < 50 && result.status === 503; i++) {
      await sleep(100)
      result = await refreshOn(url, latest(client))
    }
    expect(result.status, JSON.stringify(result.body)).toBe(200)
    expect(gen(result.body.refresh_token!)).toBe(acknowledged + 1)
    client.acknowledged.push(result.body.refresh_token!)
  }
}

/** No token works twice: a long-superseded token is reuse, and it ends the session. */
async function verifyNoReplay(url: string, env: Record<string, string>, clients: Client[]): Promise<void> {
  for (const client of clients) {
    expect(client.acknowledged.length).toBeGreaterThan(3)
    const replay = await refreshOn(url, client.acknowledged[0]!)
    expect(replay.status).toBe(400)
    expect(replay.body.error).toBe('invalid_grant')
    expect((await readSession(env, client.sessionId))?.revokedReason).toBe('refresh_reuse')
    expect((await refreshOn(url, latest(client))).body.error).toBe('invalid_grant')
  }
}

describe('kill -9 of tessera serve on a SQLite file', () => {
  let database: TestDatabase
  let server: ServeProcess | undefined
  const figures = newFigures()
  beforeAll(async () => {
    database = await createTestDatabase('sqlite')
  })
  afterAll(async () => {
    console.info(`crash (sqlite, kill -9): ${JSON.stringify(figures)}`)
    if (server) await killHard(server)
    await database.drop()
  })

  it('loses no acknowledged rotation, half-rotates no session and lets no token work twice', async () => {
    const random = seededRandom(proofSeed('crash (sqlite)'))
    const env = serveEnv(database, { TESSERA_REFRESH_REUSE_GRACE: String(GRACE) })
    await seed(env)
    server = await spawnServe(await freePort(), env)
    const clients: Client[] = []
    for (const username of USERNAMES) clients.push(await signIn(server.url, username))
    const kills = proofRuns(20)
    for (let run = 0; run < kills; run++) {
      let killed = false
      const load = clients.map((c) => drive(server!.url, c, () => killed, figures))
      await sleep(30 + random.int(250))
      killed = true
      await killHard(server)
      await Promise.all(load)
      const started = Date.now()
      server = await spawnServe(await freePort(), env)
      figures.restarts += 1
      // A lost answer is recovered through grace, so the restart must fit inside it.
      expect(Date.now() - started).toBeLessThan(GRACE * 1000)
      await verifyRecovery(server.url, env, clients, figures)
    }
    expect(figures.violations).toEqual([])
    await verifyNoReplay(server.url, env, clients)
  }, 120_000)
})

describe.skipIf(!DIALECTS.includes('postgres'))('PostgreSQL connection cut under refresh load', () => {
  let database: TestDatabase
  let proxy: TcpProxy
  let server: ServeProcess | undefined
  const figures = newFigures()
  beforeAll(async () => {
    database = await createTestDatabase('postgres')
  })
  afterAll(async () => {
    console.info(`crash (postgres, connection cut): ${JSON.stringify(figures)}`)
    if (server) await stopWithin(server, 2000)
    await proxy?.cut()
    await database?.drop()
  })

  it('answers 503 during the outage, never invalid_grant, and loses no acknowledged rotation', async () => {
    const random = seededRandom(proofSeed('crash (postgres)'))
    const target = new URL(database.url)
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432))
    const proxied = new URL(database.url)
    proxied.port = String(await proxy.start())
    const env = serveEnv(database, { TESSERA_REFRESH_REUSE_GRACE: String(GRACE) })
    await seed(env)
    server = await spawnServe(await freePort(), { ...env, TESSERA_DATABASE_URL: proxied.toString() })
    const clients: Client[] = []
    for (const username of USERNAMES) clients.push(await signIn(server.url, username))
    const cuts = proofRuns(10)
    for (let run = 0; run < cuts; run++) {
      let done = false
      const load = clients.map((c) => drive(server!.url, c, () => done, figures))
      await sleep(30 + random.int(200))
      await proxy.cut()
      figures.restarts += 1
      await sleep(100 + random.int(300))
      await proxy.restore()
      await sleep(200)
      done = true
      await Promise.all(load)
      await verifyRecovery(server.url, env, clients, figures)
    }
    expect(figures.violations).toEqual([])
    await verifyNoReplay(server.url, env, clients)
  }, 120_000)
})
