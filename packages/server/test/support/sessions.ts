import type { Session } from '../../src/store/store.js'

export const NOW = 1_800_000_000_000
export const DAY = 86_400_000

/** A live session row of user `u1` and client `web`, generation 0, for the store suites. */
export function session(id: string, overrides: Partial<Session> = {}): Session {
  return {
    id,
    userId: 'u1',
    clientId: 'web',
    scope: 'read',
    generation: 0,
    createdAt: NOW,
    lastUsedAt: NOW,
    idleExpiresAt: NOW + DAY,
    absoluteExpiresAt: NOW + 30 * DAY,
    rotatedAt: null,
    prevRotatedAt: null,
    revokedAt: null,
    revokedReason: null,
    userAgent: null,
    ip: null,
    ...overrides,
  }
}
