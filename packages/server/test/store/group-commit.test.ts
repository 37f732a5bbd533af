import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createStore, type KyselyStore } from '../../src/store/kysely-store.js'
import type { RotateInput, RotateResult } from '../../src/store/store.js'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/dialects.js'
import { DAY, NOW, session } from '../support/sessions.js'

const presented = (sessionId: string, generation: number, clientId = 'web'): RotateInput => ({
  sessionId,
  generation,
  clientId,
  now: NOW + 1000,
  idleTtlMs: DAY,
})

const summary = (result: RotateResult) =>
  result.kind === 'missing' ? 'missing' : `${result.kind}@${result.session.generation}`

async function open(url: string): Promise<KyselyStore> {
  const store = createStore(url)
  await store.migrate()
  return store
}

for (const dialect of DIALECTS) {
  describe(`rotations committed together (${dialect})`, () => {
    let database: TestDatabase
    let store: KyselyStore

    beforeEach(async () => {
      database = await createTestDatabase(dialect)
      store = await open(database.url)
      await store.createUser({
        id: 'u1',
        username: 'ada',
        passwordHash: 'not-a-real-hash',
        roles: ['admin', 'user'],
        disabledAt: null,
        createdAt: NOW,
        passwordChangedAt: NOW,
        tokensValidAfter: null,
      })
      for (const id of ['web', 'other']) {
        await store.createClient({
          id,
          secretHash: null,
          isPublic: true,
          grantTypes: ['refresh_token'],
          scopes: ['read'],
          redirectUris: [],
          requireConsent: false,
          createdAt: NOW,
        })
      }
    })
    afterEach(async () => {
      await store.close()
      await database.drop()
    })

    it('gives every request of one burst its own outcome, as if they had run one after another', async () => {
      await store.createSession(session('fresh'))
      await store.createSession(session('ahead', { generation: 5 }))
      await store.createSession(session('revoked', { revokedAt: NOW, revokedReason: 'logout' }))
      await store.createSession(session('expired', { idleExpiresAt: NOW }))
      await store.createSession(session('theirs', { clientId: 'other' }))

      // All issued in one turn of the event loop, so they land in one batch.
      const results = await Promise.all([
        store.rotateRefreshToken(presented('fresh', 0)),
        store.rotateRefreshToken(presented('fresh', 0)),
        store.rotateRefreshToken(presented('ahead', 4)),
        store.rotateRefreshToken(presented('revoked', 0)),
        store.rotateRefreshToken(presented('expired', 0)),
        store.rotateRefreshToken(presented('theirs', 0)),
        store.rotateRefreshToken(presented('unknown', 0)),
      ])

      expect(results.map(summary)).toEqual([
        'rotated@1',
        'stale@1',
        'stale@5',
        'stale@0',
        'stale@0',
        'stale@0',
        'missing',
      ])
      expect(results[0]).toMatchObject({
        kind: 'rotated',
        userRoles: ['admin', 'user'],
        session: { id: 'fresh', userId: 'u1', clientId: 'web', scope: 'read', generation: 1 },
      })
      expect(await store.findSession('fresh')).toMatchObject({
        generation: 1,
        rotatedAt: NOW + 1000,
        lastUsedAt: NOW + 1000,
        idleExpiresAt: NOW + 1000 + DAY,
      })
    })

    it('keeps a burst out of a transaction left open across an await, which then rolls back', async () => {
      await store.createSession(session('fresh'))
      await store.createSession(session('other'))
      const rolledBack = store.db.transaction().execute(async (trx) => {
        await trx.updateTable('sessions').set({ scope: 'changed' }).where('id', '=', 'other').execute()
        await new Promise((resolve) => setTimeout(resolve, 50))
        throw new Error('rolled back on purpose')
      })
      const rotated = store.rotateRefreshToken(presented('fresh', 0))

      await expect(rolledBack).rejects.toThrow('rolled back on purpose')
      expect(summary(await rotated)).toBe('rotated@1')
      expect((await store.findSession('fresh'))?.generation).toBe(1)
      expect((await store.findSession('other'))?.scope).toBe('read')
    })

    it('rotates every session of a burst larger than one batch, each exactly once', async () => {
      const ids = Array.from({ length: 600 }, (_, i) => `s${String(i).padStart(4, '0')}`)
      for (const id of ids) await store.createSession(session(id))

      const results = await Promise.all(ids.map((id) => store.rotateRefreshToken(presented(id, 0))))

      expect(results.every((r) => r.kind === 'rotated' && r.session.generation === 1)).toBe(true)
      for (const id of [ids[0]!, ids[299]!, ids[599]!])
        expect((await store.findSession(id))?.generation).toBe(1)
    })

    it('lets two instances rotate the same sessions in opposite orders: each rotates once, none fails', async () => {
      const ids = Array.from({ length: 200 }, (_, i) => `t${String(i).padStart(4, '0')}`)
      for (const id of ids) await store.createSession(session(id))
      const second = await open(database.url)
      try {
        const [a, b] = await Promise.all([
          Promise.all(ids.map((id) => store.rotateRefreshToken(presented(id, 0)))),
          Promise.all([...ids].reverse().map((id) => second.rotateRefreshToken(presented(id, 0)))),
        ])
        const rotatedBy = ids.map((_, i) => [a[i]!.kind, b[ids.length - 1 - i]!.kind].sort().join('+'))
        expect(new Set(rotatedBy)).toEqual(new Set(['rotated+stale']))
      } finally {
        await second.close()
      }
    })
  })
}
