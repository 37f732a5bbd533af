import { describe, expect, it } from 'vitest'
import { memoryStorage, webStorage } from '../src/index.js'

const tokens = { accessToken: 'a', refreshToken: 'tsr_x', issuedAt: 0, expiresAt: 1, scope: 'read' }

describe('token storage', () => {
  it('memory storage keeps tokens until cleared', () => {
    const storage = memoryStorage()
    expect(storage.get()).toBeNull()
    storage.set(tokens)
    expect(storage.get()).toEqual(tokens)
    storage.clear()
    expect(storage.get()).toBeNull()
  })

  it('web storage round-trips through one key and ignores corrupt values', () => {
    const map = new Map<string, string>()
    const area = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
      removeItem: (k: string) => void map.delete(k),
    } as unknown as Storage
    const storage = webStorage(area, 'k')
    storage.set(tokens)
    expect(JSON.parse(map.get('k')!)).toEqual(tokens)
    expect(storage.get()).toEqual(tokens)
    map.set('k', '{not json')
    expect(storage.get()).toBeNull()
    map.set('k', JSON.stringify({ accessToken: 'a' }))
    expect(storage.get()).toBeNull()
    storage.clear()
    expect(map.has('k')).toBe(false)
  })
})
