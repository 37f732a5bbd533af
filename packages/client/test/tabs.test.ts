import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient, type LockManagerLike, memoryStorage, type TesseraClient } from '../src/index.js'
import { countingFetch, PASSWORD, startServer } from './server.js'

/** A lock manager with the Web Locks semantics the client relies on: one holder per name. */
function fakeLocks(): LockManagerLike {
  const queues = new Map<string, Promise<unknown>>()
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = queues.get(name) ?? Promise.resolve()
      const run = previous.then(callback, callback)
      queues.set(
        name,
        run.catch(() => {}),
      )
      return run
    },
  }
}

describe('several tabs of one origin', () => {
  let server: Awaited<ReturnType<typeof startServer>>
  const clients: TesseraClient[] = []
  beforeEach(async () => {
    server = await startServer()
  })
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    await server.close()
  })

  it('two tabs refreshing at the same moment present the refresh token once and both stay signed in', async () => {
    const storage = memoryStorage()
    const locks = fakeLocks()
    const counter = countingFetch()
    let skew = 0
    const tab = () =>
      createClient({
        issuer: server.url,
        clientId: 'web',
        storage,
        fetch: counter.fetch,
        now: () => Date.now() + skew,
        tabs: { locks, channel: new BroadcastChannel(`test-${server.url}`) },
      })
    const a = tab()
    const b = tab()
    clients.push(a, b)
    await a.login('alice', PASSWORD)
    skew = 61_000
    const [ra, rb] = await Promise.all([a.fetch(`${server.url}/me`), b.fetch(`${server.url}/me`)])
    expect([ra.status, rb.status]).toEqual([200, 200])
    expect(counter.counts.refresh_token).toBe(1)
  })

  it('a logout in one tab signs the other out too', async () => {
    const storage = memoryStorage()
    const name = `test-logout-${server.url}`
    const a = createClient({
      issuer: server.url,
      clientId: 'web',
      storage,
      tabs: { channel: new BroadcastChannel(name) },
    })
    const bStorage = memoryStorage()
    const b = createClient({
      issuer: server.url,
      clientId: 'web',
      storage: bStorage,
      tabs: { channel: new BroadcastChannel(name) },
    })
    clients.push(a, b)
    const tokens = await a.login('alice', PASSWORD)
    await expect.poll(() => bStorage.get()?.accessToken).toBe(tokens.accessToken)
    const reasons: string[] = []
    b.on('logout', (event) => reasons.push(event.reason))
    await a.logout()
    await expect.poll(() => reasons).toEqual(['other_tab'])
    expect(bStorage.get()).toBeNull()
  })
})
