import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

export type Dialect = 'sqlite' | 'postgres'

const POSTGRES_URL = process.env.TESSERA_TEST_DATABASE_URL

/** Dialects the suites run on: SQLite always, PostgreSQL when TESSERA_TEST_DATABASE_URL is set. */
export const DIALECTS: Dialect[] = POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite']

if (!POSTGRES_URL && !process.env.TESSERA_SKIP_NOTICE_SHOWN) {
  process.env.TESSERA_SKIP_NOTICE_SHOWN = '1'
  console.info('PostgreSQL suites skipped: set TESSERA_TEST_DATABASE_URL=postgres://… to run them')
}

export interface TestDatabase {
  url: string
  dataDir: string
  drop(): Promise<void>
}

/** A fresh, empty database of the dialect: a SQLite file in a temp dir, or a new PostgreSQL database. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'))
  if (dialect === 'sqlite') {
    return {
      url: `sqlite:${join(dataDir, 'tessera.db')}`,
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    }
  }
  if (!POSTGRES_URL) throw new Error('TESSERA_TEST_DATABASE_URL is not set')
  const name = `tessera_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    dataDir,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Redis for the scale-out suites, when TESSERA_TEST_REDIS_URL is set. */
export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL

/** True when the suites that need PostgreSQL and Redis together can run; prints why not. */
export function scaleOutAvailable(): boolean {
  if (POSTGRES_URL && REDIS_URL) return true
  if (process.env.CI)
    throw new Error(
      'CI must run the scale-out suites: set TESSERA_TEST_DATABASE_URL and TESSERA_TEST_REDIS_URL',
    )
  console.info(
    'scale-out suites skipped: set TESSERA_TEST_DATABASE_URL and TESSERA_TEST_REDIS_URL to run them',
  )
  return false
}
