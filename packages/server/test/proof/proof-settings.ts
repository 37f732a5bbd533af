import { randomInt } from 'node:crypto'

/**
 * How hard the proof suites push. CI runs the small defaults; `TESSERA_PROOF_RUNS=N` sets the
 * number of runs of every suite (model runs, crashes, race rounds, fuzz batches) to scale up locally.
 */
export function proofRuns(ciDefault: number): number {
  const value = Number(process.env.TESSERA_PROOF_RUNS)
  return Number.isInteger(value) && value > 0 ? value : ciDefault
}

/** One seed per suite, printed so a failure can be replayed with `TESSERA_PROOF_SEED`. */
export function proofSeed(suite: string): number {
  const given = Number(process.env.TESSERA_PROOF_SEED)
  const seed = Number.isInteger(given) ? given : randomInt(2 ** 31)
  console.info(`${suite}: seed ${seed} (replay with TESSERA_PROOF_SEED=${seed})`)
  return seed
}

/** A small seeded generator (mulberry32), so load schedules replay from the printed seed. */
export function seededRandom(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    chance: (p: number) => next() < p,
  }
}

/** Claims of a JWT, read without verifying (the test is the client here). */
export function jwtClaims(
  token: string,
): Record<string, unknown> & { exp: number; jti: string; sid?: string } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
}

/** Session id and generation of a `tsr_` refresh token: its first 20 bytes are readable. */
export function refreshTokenParts(token: string): { sessionId: string; generation: number } {
  const body = Buffer.from(token.slice(4), 'base64url')
  return { sessionId: body.subarray(0, 16).toString('base64url'), generation: body.readUInt32BE(16) }
}

/** A form POST over a real socket, with the parsed JSON answer. */
export async function postForm(
  url: string,
  form: Record<string, string>,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...init.headers },
    body: new URLSearchParams(form),
    ...(init.signal ? { signal: init.signal } : {}),
  })
  const text = await response.text()
  let body: Record<string, string> = {}
  try {
    body = JSON.parse(text) as Record<string, string>
  } catch {}
  return { status: response.status, body, text }
}
