import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { type CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import type pg from 'pg'
import type { Database } from './schema.js'
import type { StoreCapabilities } from './store.js'

export interface DatabaseHandle {
  db: Kysely<Database>
  capabilities: StoreCapabilities
  /** True when the driver error means a key already exists (unique or primary key). */
  isUniqueViolation(error: unknown): boolean
  /**
   * SQLite only: the connection itself, for work that must not wait on a promise per statement.
   * A batch of rotations runs on it as one transaction of single statements (in process, a
   * statement costs no round trip); without it (PostgreSQL) a batch is one statement over arrays.
   */
  sync?: SyncConnection
}

/** Runs compiled queries synchronously on an in-process database. */
export interface SyncConnection {
  /** True while a transaction (begun through Kysely, say) is open on the connection. */
  inTransaction(): boolean
  /** Runs `work` in one transaction, committed (durably) before it returns; rolled back if it throws. */
  transaction<T>(work: (all: <R>(query: CompiledQuery<R>) => R[]) => T): T
}

export interface OpenOptions {
  poolSize?: number
}

/**
 * Opens the database named by a `sqlite:` or `postgres://` URL. Where the dialects differ the
 * difference is recorded here, as a capability, and nowhere else.
 */
export function openDatabase(url: string, options: OpenOptions = {}): DatabaseHandle {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length))
  return openPostgres(url, options.poolSize ?? 10)
}

function openSqlite(path: string): DatabaseHandle {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new SqliteDatabase(path, { timeout: 2000 })
  sqlite.pragma('journal_mode = WAL')
  // Durable commits: a rotation is on disk before its response is sent (group commit pays for it).
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma('foreign_keys = ON')
  // SQLite's default page cache is 2 MiB: past a few thousand sessions every rotation would read
  // its index pages back from the file. 32 MiB holds the index of about a million sessions; the
  // cache fills only as pages are touched, so an idle server does not pay for it.
  sqlite.pragma('cache_size = -32768')
  const prepare = statementCache(sqlite)
  const all = <R>(query: CompiledQuery<R>) => prepare(query.sql).all(query.parameters as unknown[]) as R[]
  return {
    db: new Kysely<Database>({
      dialect: new SqliteDialect({ database: { close: () => sqlite.close(), prepare } }),
    }),
    sync: {
      inTransaction: () => sqlite.inTransaction,
      transaction: (work) => sqlite.transaction(() => work(all))(),
    },
    capabilities: { dialect: 'sqlite' },
    isUniqueViolation: (error) =>
      typeof (error as { code?: unknown })?.code === 'string' &&
      /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test((error as { code: string }).code),
  }
}

// Kysely prepares every query anew; better-sqlite3 statements are reusable and the driver runs
// them synchronously, so caching them by SQL text removes a prepare from every hot-path query.
function statementCache(sqlite: SqliteDatabase.Database): (sql: string) => SqliteDatabase.Statement {
  const cache = new Map<string, SqliteDatabase.Statement>()
  return (sql: string) => {
    let statement = cache.get(sql)
    if (statement === undefined) {
      statement = sqlite.prepare(sql)
      if (cache.size < 1000) cache.set(sql, statement)
    }
    return statement
  }
}

// pg is loaded only when a PostgreSQL URL is configured: a SQLite deployment never pays its memory.
async function createPool(url: string, poolSize: number): Promise<pg.Pool> {
  const { default: pgModule } = await import('pg')
  const pool = new pgModule.Pool({
    Client: preparingClient(pgModule),
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 3000,
    // A query that cannot finish in time fails (503) instead of hanging a request.
    statement_timeout: 5000,
    query_timeout: 6000,
    types: {
      getTypeParser: (oid: number, format?: string) =>
        oid === pgModule.types.builtins.INT8
          ? (value: string) => Number(value)
          : pgModule.types.getTypeParser(oid, format as 'text'),
    },
  })
  // A connection whose server went away emits 'error' (idle ones on the pool, checked-out ones on
  // the client); unheard, it would end the process. The failed query itself still rejects (503).
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  return pool
}

const DML = /^\s*(select|insert|update|delete|with)\b/i
const MAX_PREPARED = 500
// feature_not_supported, as PostgreSQL reports "cached plan must not change result type".
const STALE_PLAN = '0A000'

/**
 * A pg client that runs repeated data statements as named prepared statements, so PostgreSQL
 * parses and plans each once per connection instead of on every call (the unnamed statement
 * Kysely's driver sends is planned every time). Names are shared by SQL text across connections
 * and capped, so queries whose text varies (IN lists) cannot grow the set without bound; schema
 * statements are never prepared.
 *
 * A migration run by a newer release under a running instance can change what a prepared
 * statement returns (a `SELECT *` of a table that gained a column); PostgreSQL then refuses the
 * old plan. The statement is run again unprepared and its text gets a new name, so every
 * connection prepares it afresh: the instance keeps serving through a rolling upgrade.
 */
function preparingClient(pgModule: typeof pg): typeof pg.Client {
  const names = new Map<string, string>()
  let created = 0
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text)
    if (name === undefined && names.size < MAX_PREPARED && DML.test(text)) {
      name = `tessera_${created++}`
      names.set(text, name)
    }
    return name
  }
  return class PreparingClient extends pgModule.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's query() has a dozen overloads; this forwards them all.
    override query(config: any, values?: any, callback?: any): any {
      const name = typeof config === 'string' && callback === undefined ? nameOf(config) : undefined
      if (name === undefined) return super.query(config, values, callback)
      return super.query({ name, text: config, values }).catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== STALE_PLAN) throw error
        if (names.get(config) === name) names.delete(config)
        return super.query(config, values)
      })
    }
  }
}

function openPostgres(url: string, poolSize: number): DatabaseHandle {
  return {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: () => createPool(url, poolSize) }) }),
    capabilities: { dialect: 'postgres' },
    isUniqueViolation: (error) => (error as { code?: unknown })?.code === '23505',
  }
}
