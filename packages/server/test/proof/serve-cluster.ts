import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { createClient, createUser, openAdmin } from '../../src/admin.js'
import { loadConfig } from '../../src/config.js'
import type { Session } from '../../src/store/store.js'
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../support/dialects.js'
import { type ServeProcess, spawnServe } from '../support/processes.js'
import { freePort, PASSWORD, SECRET_KEY } from '../support/server.js'

export const USERNAMES = ['alice', 'bob', 'carol', 'dave'] as const

/** Seeds the users above and the public client `web` into the database `env` names. */
export async function seed(env: Record<string, string>): Promise<void> {
  const admin = await openAdmin(loadConfig(env), pino({ level: 'silent' }))
  for (const username of USERNAMES) await createUser(admin, { username, password: PASSWORD, roles: ['user'] })
  await createClient(admin, {
    id: 'web',
    isPublic: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read'],
    redirectUris: [],
  })
  await admin.store.close()
}

/** Reads one session row through a short-lived store of its own. */
export async function readSession(env: Record<string, string>, id: string): Promise<Session | undefined> {
  const admin = await openAdmin(loadConfig(env), pino({ level: 'silent' }))
  try {
    return await admin.store.findSession(id)
  } finally {
    await admin.store.close()
  }
}

export function serveEnv(database: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TESSERA_DATABASE_URL: database.url,
    TESSERA_SECRET_KEY: SECRET_KEY,
    TESSERA_ISSUER: 'http://tessera.test',
    TESSERA_DATA_DIR: database.dataDir,
    ...extra,
  }
}

/** Two `tessera serve` processes sharing a fresh PostgreSQL database and a Redis prefix of their own. */
export async function startPair(grace: number) {
  const database = await createTestDatabase('postgres')
  const prefix = `tessera-proof-${randomBytes(4).toString('hex')}:`
  const env = serveEnv(database, {
    TESSERA_REDIS_URL: REDIS_URL!,
    TESSERA_REDIS_PREFIX: prefix,
    TESSERA_REFRESH_REUSE_GRACE: String(grace),
  })
  await seed(env)
  const [a, b] = await Promise.all([spawnServe(await freePort(), env), spawnServe(await freePort(), env)])
  return {
    instances: [a, b] as const,
    env,
    async close() {
      await Promise.all([stopWithin(a, 2000), stopWithin(b, 2000)])
      const redis = new Redis(REDIS_URL!)
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
      await database.drop()
    },
  }
}

/** `kill -9` of a server this suite started, by its PID; resolves once it is gone. */
export function killHard(server: ServeProcess): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve()
    server.child.once('exit', () => resolve())
    process.kill(server.child.pid!, 'SIGKILL')
  })
}

/** SIGTERM, then `kill -9` if the server has not exited in time: teardown never hangs a suite. */
export async function stopWithin(server: ServeProcess, ms: number): Promise<void> {
  const timer = setTimeout(() => void killHard(server), ms)
  await server.stop()
  clearTimeout(timer)
}
