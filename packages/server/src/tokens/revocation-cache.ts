const MAX_ENTRIES = 100_000

/**
 * Sessions and access tokens this process knows to be revoked (its own revocations and those
 * heard on the change feed), so a refused token costs no database read. Only ever a fast "no":
 * a token absent from here is still checked against the database.
 */
export class RevocationCache {
  readonly #sessions = new Map<string, number>()
  readonly #tokens = new Map<string, number>()

  constructor(private readonly now: () => number) {}

  revokeSession(sid: string, until: number): void {
    this.#remember(this.#sessions, sid, until)
  }

  revokeToken(jti: string, until: number): void {
    this.#remember(this.#tokens, jti, until)
  }

  isSessionRevoked(sid: string): boolean {
    return this.#check(this.#sessions, sid)
  }

  isTokenRevoked(jti: string): boolean {
    return this.#check(this.#tokens, jti)
  }

  #remember(map: Map<string, number>, key: string, until: number): void {
    if (map.size >= MAX_ENTRIES) {
      const now = this.now()
      for (const [k, v] of map) if (v <= now) map.delete(k)
      if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string)
    }
    map.set(key, until)
  }

  #check(map: Map<string, number>, key: string): boolean {
    const until = map.get(key)
    if (until === undefined) return false
    if (until > this.now()) return true
    map.delete(key)
    return false
  }
}
