import { appOrigins } from './browser/origins.js'
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

  #origins: { set: Promise<Set<string>>; until: number } | undefined

  /**
   * Origins browser apps may call from (CORS): the issuer's and those of every registered
   * redirect URI. Re-read every 30 s, so a new client's app is let in without a restart.
   */
  browserOrigins(issuer: string): Promise<Set<string>> {
    const now = this.now()
    if (!this.#origins || this.#origins.until <= now) {
      const set = this.store.listRedirectUris().then((uris) => appOrigins(issuer, uris))
      set.catch(() => {
        this.#origins = undefined
      })
      this.#origins = { set, until: now + TTL_MS }
    }
    return this.#origins.set
  }

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
