/** What the client keeps between calls. `refreshToken` is absent in cookie mode. */
export interface Tokens {
  accessToken: string
  refreshToken?: string
  /** When the client received the access token, in milliseconds since the epoch. */
  issuedAt: number
  /** When the access token expires, in milliseconds since the epoch. */
  expiresAt: number
  scope: string
}

/**
 * Where tokens live; may be synchronous or asynchronous. Tabs that share one storage (for
 * instance `localStorage`) see each other's refreshes as soon as they take the refresh lock.
 */
export interface TokenStorage {
  get(): Tokens | null | Promise<Tokens | null>
  set(tokens: Tokens): void | Promise<void>
  clear(): void | Promise<void>
}

/** A storage that answers at once, like the two built in. */
export interface SyncTokenStorage extends TokenStorage {
  get(): Tokens | null
  set(tokens: Tokens): void
  clear(): void
}

/**
 * Keeps tokens in memory only (the default): nothing survives a reload, nothing is readable
 * by other scripts through storage.
 *
 * @example
 * const client = createClient({ issuer, clientId, storage: memoryStorage() })
 */
export function memoryStorage(): SyncTokenStorage {
  let tokens: Tokens | null = null
  return {
    get: () => tokens,
    set: (value) => {
      tokens = value
    },
    clear: () => {
      tokens = null
    },
  }
}

/**
 * Keeps tokens in a Web Storage area (`localStorage` or `sessionStorage`) under one key. Any
 * script on the origin can read it; prefer cookie mode for refresh tokens in browsers.
 *
 * @example
 * const client = createClient({ issuer, clientId, storage: webStorage(sessionStorage) })
 */
export function webStorage(area: Storage, key = 'tessera.tokens'): SyncTokenStorage {
  return {
    get: () => {
      const raw = area.getItem(key)
      if (!raw) return null
      try {
        const value = JSON.parse(raw) as Partial<Tokens> | null
        // Another version of the app, or a person with devtools, may have left anything here.
        return value &&
          typeof value.accessToken === 'string' &&
          typeof value.expiresAt === 'number' &&
          typeof value.issuedAt === 'number'
          ? (value as Tokens)
          : null
      } catch {
        return null
      }
    },
    set: (value) => area.setItem(key, JSON.stringify(value)),
    clear: () => area.removeItem(key),
  }
}
