import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createStore, type KyselyStore } from '../../src/store/kysely-store.js'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/dialects.js'
import { NOW, session } from '../support/sessions.js'

describe.runIf(DIALECTS.includes('postgres'))('prepared statements on PostgreSQL', () => {
  let database: TestDatabase
  let store: KyselyStore

  beforeEach(async () => {
    database = await createTestDatabase('postgres')
    store = createStore(database.url, { poolSize: 1 })
    await store.migrate()
  })
  afterEach(async () => {
    await store.close()
    await database.drop()
  })

  it('keep working when a newer release adds a column under a running instance', async () => {
    await store.createSession(
      session('s1', { userId: null, idleExpiresAt: NOW + 1000, absoluteExpiresAt: NOW + 1000 }),
    )
    // Prepared on the pool's one connection, with the table's current columns.
    expect((await store.findSession('s1'))?.id).toBe('s1')

    // What a migration of a later release does while this instance keeps serving.
    await store.db.schema.alterTable('sessions').addColumn('added_later', 'text').execute()

    expect((await store.findSession('s1'))?.id).toBe('s1')
    expect((await store.findSession('s1'))?.scope).toBe('read')
  })
})
