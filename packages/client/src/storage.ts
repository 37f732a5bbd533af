/** What the client keeps between calls. `refreshToken` is absent in cookie mode. */
export interface Tokens {
  accessToken: string
  refreshToken?: string
  /** Milliseconds since the epoch. */
  expiresAt: number
  scope: string
}

/** Where tokens live; may be synchronous or asynchronous. */
export interface TokenStorage {
  get(): Tokens | null | Promise<Tokens | null>
  set(tokens: Tokens): void | Promise<void>
  clear(): void | Promise<void>
}

/**
 * Keeps tokens in memory only (the default): nothing survives a reload, nothing is readable
 * by other scripts through storage.
 *
 * @example
 * const client = createClient({ issuer, clientId, storage: memoryStorage() })
 */
export function memoryStorage(): TokenStorage {
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
export function webStorage(area: Storage, key = 'tessera.tokens'): TokenStorage {
  return {
    get: () => {
      const raw = area.getItem(key)
      if (!raw) return null
      try {
        return JSON.parse(raw) as Tokens
      } catch {
        return null
      }
    },
    set: (value) => area.setItem(key, JSON.stringify(value)),
    clear: () => area.removeItem(key),
  }
}
