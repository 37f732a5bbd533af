import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('client errors', () => {
  const cases = [
    [new api.OAuthError('invalid_grant', 400), 'oauth_error', api.isOAuthError],
    [new api.NetworkError('down', 503, { retryAfterMs: 1000 }), 'network_error', api.isNetworkError],
    [new api.NotSignedInError(), 'not_signed_in', api.isNotSignedInError],
    [new api.DiscoveryError('no metadata'), 'discovery_error', api.isDiscoveryError],
  ] as const

  it('every error class has its stable code and a guard that recognises it', () => {
    for (const [error, code, guard] of cases) {
      expect(error.code).toBe(code)
      expect(guard(error)).toBe(true)
      expect(api.isTesseraClientError(error)).toBe(true)
      expect(error).toBeInstanceOf(Error)
      for (const [, , other] of cases) if (other !== guard) expect(other(error)).toBe(false)
    }
  })

  it('every exported error class is covered here and documented with its code and guard', () => {
    const exported = Object.entries(api).filter(
      ([name, value]) =>
        typeof value === 'function' && /^[A-Z]\w*Error$/.test(name) && name !== 'TesseraClientError',
    )
    expect(exported.map(([name]) => name).sort()).toEqual(cases.map(([error]) => error.name).sort())
    for (const [error, code, guard] of cases) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${error.name}\``))
      expect(row, `README row for ${error.name}`).toContain(`\`${code}\``)
      expect(row).toContain(`\`${guard.name}\``)
    }
  })

  it('the guards work across two copies of the package (a global brand, not instanceof)', () => {
    const foreign = Object.assign(new Error('from another copy'), {
      code: 'oauth_error',
      error: 'invalid_grant',
    })
    ;(foreign as unknown as Record<symbol, boolean>)[Symbol.for('tessera.client.error')] = true
    expect(api.isOAuthError(foreign)).toBe(true)
    expect(api.isOAuthError(new Error('plain'))).toBe(false)
    expect(api.isTesseraClientError({ code: 'oauth_error' })).toBe(false)
    expect(api.isTesseraClientError(null)).toBe(false)
  })

  it('an OAuth error keeps the wire error, status and description', () => {
    const error = new api.OAuthError('invalid_grant', 400, 'refresh token reused')
    expect([error.error, error.status, error.description]).toEqual([
      'invalid_grant',
      400,
      'refresh token reused',
    ])
    expect(error.message).toBe('invalid_grant: refresh token reused')
  })
})
