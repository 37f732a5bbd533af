import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type ChannelLike,
  createClient,
  type LockManagerLike,
  memoryStorage,
  type TesseraClient,
  type Tokens,
} from '../src/index.js'
import { browserTabs, TabCoordinator } from '../src/tabs.js'
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

  it('two tabs sharing storage under a lock present each refresh token once, call after call', async () => {
    const storage = memoryStorage()
    const locks = fakeLocks()
    const counter = countingFetch()
    let skew = 0
    const name = `test-rounds-${server.url}`
    const tab = () =>
      createClient({
        issuer: server.url,
        clientId: 'web',
        storage,
        fetch: counter.fetch,
        now: () => Date.now() + skew,
        tabs: { locks, channel: new BroadcastChannel(name) },
      })
    const a = tab()
    const b = tab()
    clients.push(a, b)
    const logouts: string[] = []
    for (const c of [a, b]) c.on('logout', (event) => logouts.push(event.reason))
    await a.login('alice', PASSWORD)
    for (let round = 1; round <= 3; round++) {
      skew = round * 61_000
      const calls = Array.from({ length: 50 }, () => [a, b]).flat()
      const responses = await Promise.all(calls.map((c) => c.fetch(`${server.url}/me`)))
      expect(responses.every((r) => r.status === 200)).toBe(true)
      await Promise.all([a.refresh(), b.refresh()])
    }
    expect(counter.presented.length).toBeGreaterThanOrEqual(6)
    expect(new Set(counter.presented).size).toBe(counter.presented.length)
    expect(logouts).toEqual([])
  })

  it('a tab with storage of its own learns of a login and a refresh through the broadcast', async () => {
    const name = `test-adopt-${server.url}`
    const aStorage = memoryStorage()
    const bStorage = memoryStorage()
    const a = createClient({
      issuer: server.url,
      clientId: 'web',
      storage: aStorage,
      tabs: { locks: fakeLocks(), channel: new BroadcastChannel(name) },
    })
    const b = createClient({
      issuer: server.url,
      clientId: 'web',
      storage: bStorage,
      tabs: { channel: new BroadcastChannel(name) },
    })
    clients.push(a, b)
    const refreshed: string[] = []
    b.on('refreshed', (tokens) => refreshed.push(tokens.accessToken))
    const login = await a.login('alice', PASSWORD)
    await expect.poll(() => bStorage.get()?.refreshToken).toBe(login.refreshToken)
    const next = await a.refresh()
    await expect.poll(() => bStorage.get()?.refreshToken).toBe(next.refreshToken)
    expect(refreshed).toEqual([login.accessToken, next.accessToken])
    expect((await b.fetch(`${server.url}/me`)).status).toBe(200)
  })

  it('without locks or a channel each client still refreshes once for any number of callers', async () => {
    const counter = countingFetch()
    let skew = 0
    const c = createClient({
      issuer: server.url,
      clientId: 'web',
      fetch: counter.fetch,
      now: () => Date.now() + skew,
      tabs: {},
    })
    clients.push(c)
    await c.login('alice', PASSWORD)
    skew = 61_000
    await Promise.all(Array.from({ length: 20 }, () => c.fetch(`${server.url}/me`)))
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

/** A channel the test delivers by hand, to order messages as a slow browser might. */
function manualChannel() {
  const sent: unknown[] = []
  let listener: (event: { data: unknown }) => void = () => {}
  const channel: ChannelLike = {
    postMessage: (message) => void sent.push(message),
    addEventListener: (_type, l) => {
      listener = l
    },
    close: () => {},
  }
  return { channel, sent, deliver: (data: unknown) => listener({ data }) }
}

const tokens = (accessToken: string, issuedAt: number): Tokens => ({
  accessToken,
  refreshToken: `tsr_${accessToken}`,
  issuedAt,
  expiresAt: issuedAt + 60_000,
  scope: '',
})

describe('tab messages', () => {
  it('a late broadcast never replaces newer tokens', async () => {
    const storage = memoryStorage()
    const manual = manualChannel()
    const c = createClient({
      issuer: 'http://127.0.0.1:1',
      clientId: 'web',
      storage,
      tabs: { channel: manual.channel },
    })
    manual.deliver({ type: 'tokens', tokens: tokens('new', 2000) })
    await expect.poll(() => storage.get()?.accessToken).toBe('new')
    manual.deliver({ type: 'tokens', tokens: tokens('old', 1000) })
    await new Promise((r) => setTimeout(r, 10))
    expect(storage.get()?.accessToken).toBe('new')
    c.close()
  })

  it('malformed messages on the channel are ignored', () => {
    const manual = manualChannel()
    const seen: unknown[] = []
    new TabCoordinator('t', undefined, manual.channel, (m) => seen.push(m))
    for (const data of [
      null,
      'tokens',
      { type: 'tokens' },
      { type: 'tokens', tokens: { accessToken: 1 } },
      { type: 'logout' },
    ])
      manual.deliver(data)
    manual.deliver({ type: 'logout', reason: 'logout' })
    expect(seen).toEqual([{ type: 'logout', reason: 'logout' }])
  })

  it('refreshes of one issuer and client run one at a time under the lock', async () => {
    const names: string[] = []
    const locks: LockManagerLike = {
      request: (name, callback) => {
        names.push(name)
        return callback()
      },
    }
    const coordinator = new TabCoordinator('tessera:https://auth.example.com:web', locks, undefined, () => {})
    expect(await coordinator.exclusive(async () => 'ran')).toBe('ran')
    expect(names).toEqual(['tessera:https://auth.example.com:web'])
  })

  it('the tab that refreshed answers at once, and holds the lock a moment longer for the next tab', async () => {
    const locks = fakeLocks()
    const first = new TabCoordinator('t', locks, undefined, () => {}, 80)
    const second = new TabCoordinator('t', locks, undefined, () => {}, 80)
    const start = performance.now()
    const a = first.exclusive(async () => 'a').then(() => performance.now() - start)
    const b = second.exclusive(async () => 'b').then(() => performance.now() - start)
    expect(await a).toBeLessThan(60)
    expect(await b).toBeGreaterThanOrEqual(75)
    await expect(first.exclusive(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused')
  })

  it('node gets no channel by default, so a server process is not kept alive', () => {
    expect(browserTabs('x').channel).toBeUndefined()
  })
})
