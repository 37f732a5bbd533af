/** What to revoke: a single access token by `jti`, or every token of a session by `sid`. */
export interface RevocationTarget {
  readonly jti?: string
  readonly sid?: string
  /** When the revoked tokens expire anyway (seconds since the epoch); bounds how long they are remembered. */
  readonly exp?: number
}

/** Revoked `jti`s and `sid`s, each forgotten once the tokens it covers have expired anyway. */
export class RevocationList {
  readonly #jtis = new Map<string, number>()
  readonly #sids = new Map<string, number>()

  get size(): number {
    return this.#jtis.size + this.#sids.size
  }

  add(target: RevocationTarget, until: number, now: number): void {
    this.#sweep(now)
    if (target.jti !== undefined) this.#jtis.set(target.jti, Math.max(until, this.#jtis.get(target.jti) ?? 0))
    if (target.sid !== undefined) this.#sids.set(target.sid, Math.max(until, this.#sids.get(target.sid) ?? 0))
  }

  has(jti: string | undefined, sid: string | undefined, now: number): boolean {
    return RevocationList.#live(this.#jtis, jti, now) || RevocationList.#live(this.#sids, sid, now)
  }

  static #live(map: Map<string, number>, id: string | undefined, now: number): boolean {
    if (id === undefined) return false
    const until = map.get(id)
    return until !== undefined && now < until
  }

  #sweep(now: number): void {
    for (const map of [this.#jtis, this.#sids]) {
      for (const [id, until] of map) if (now >= until) map.delete(id)
    }
  }
}
