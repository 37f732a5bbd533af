import { describe, expect, it } from 'vitest'
import { backoff, replayable, retryAfterMs, retryPolicy, sleep } from '../src/retry.js'

describe('retries', () => {
  it('backoff grows exponentially with full jitter and stays bounded', () => {
    for (let attempt = 1; attempt < 12; attempt++) {
      for (let i = 0; i < 50; i++) {
        const wait = backoff(attempt)
        expect(wait).toBeGreaterThanOrEqual(0)
        expect(wait).toBeLessThanOrEqual(Math.min(5000, 200 * 2 ** attempt))
      }
    }
    expect(new Set(Array.from({ length: 50 }, () => backoff(5))).size).toBeGreaterThan(1)
  })

  it('Retry-After is read as delta-seconds or an HTTP date (RFC 9110 §10.2.3)', () => {
    const now = Date.parse('2030-01-01T00:00:00Z')
    expect(retryAfterMs('120', now)).toBe(120_000)
    expect(retryAfterMs(' 0 ', now)).toBe(0)
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000)
    expect(retryAfterMs('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0)
    expect(retryAfterMs('soon', now)).toBeUndefined()
    expect(retryAfterMs(null, now)).toBeUndefined()
  })

  it('only idempotent methods are retried by default', () => {
    const policy = retryPolicy(undefined)
    expect(policy.limit).toBe(2)
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE'])
      expect(policy.methods.has(method)).toBe(true)
    for (const method of ['POST', 'PATCH']) expect(policy.methods.has(method)).toBe(false)
    expect([...policy.statusCodes]).toEqual([408, 429, 500, 502, 503, 504])
    expect(retryPolicy(0).limit).toBe(0)
    expect(retryPolicy({ methods: ['post'] }).methods.has('POST')).toBe(true)
  })

  it('bodies that can be sent twice are told apart from streams', () => {
    for (const body of [
      undefined,
      null,
      'x',
      new URLSearchParams('a=1'),
      new Uint8Array(1),
      new ArrayBuffer(1),
      new Blob(['x']),
      new FormData(),
    ])
      expect(replayable(body)).toBe(true)
    expect(replayable(new ReadableStream())).toBe(false)
  })

  it('sleep stops early when its signal aborts', async () => {
    const controller = new AbortController()
    const waiting = sleep(60_000, controller.signal)
    controller.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
    await expect(sleep(1)).resolves.toBeUndefined()
  })
})
