import type { Client, Store } from './store/store.js'

const TTL_MS = 30_000
const MAX_ENTRIES = 10_000

/**
 * Registered clients, with found ones cached briefly: a client is read on every token request,
 * and registrations do not change once made (a new client is never served from a stale miss).
 */
export class ClientDirectory {
  readonly #cache = new Map<string, { client: Client; until: number }>()

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async find(id: string): Promise<Client | undefined> {
    const now = this.now()
    const hit = this.#cache.get(id)
    if (hit && hit.until > now) return hit.client
    const client = await this.store.findClient(id)
    if (client) {
      if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear()
      this.#cache.set(id, { client, until: now + TTL_MS })
    }
    return client
  }
}
