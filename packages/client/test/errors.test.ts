import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

describe('client errors', () => {
  it('every error class has its stable code and a guard that recognises it', () => {
    const cases = [
      [new api.OAuthError('invalid_grant', 400), 'oauth_error', api.isOAuthError],
      [new api.NetworkError('down'), 'network_error', api.isNetworkError],
      [new api.NotSignedInError(), 'not_signed_in', api.isNotSignedInError],
    ] as const
    for (const [error, code, guard] of cases) {
      expect(error.code).toBe(code)
      expect(guard(error)).toBe(true)
      expect(api.isTesseraClientError(error)).toBe(true)
      for (const [, , other] of cases) if (other !== guard) expect(other(error)).toBe(false)
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
  })
})
