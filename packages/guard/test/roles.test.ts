import { describe, expect, it } from 'vitest'
import { type AuthInfo, checkAccess } from '../src/index.js'
import { normalizeRequirements, permissionsFor } from '../src/roles.js'

const auth = (patch: Partial<AuthInfo> = {}): AuthInfo => ({
  type: 'access_token',
  sub: 'u',
  clientId: 'c',
  scopes: ['read', 'write'],
  roles: ['editor'],
  permissions: ['posts:write'],
  claims: {},
  ...patch,
})

describe('roles and permissions', () => {
  it('expands roles into the union of their permissions', () => {
    const map = { admin: ['users:write', 'users:read'], viewer: ['users:read'] }
    expect(permissionsFor(['admin', 'viewer'], map)).toEqual(['users:write', 'users:read'])
    expect(permissionsFor(['constructor'], map)).toEqual([])
    expect(permissionsFor(['admin'], undefined)).toEqual([])
  })

  it('requires every scope', () => {
    expect(() => checkAccess(auth(), { scopes: ['read', 'write'] })).not.toThrow()
    expect(() => checkAccess(auth(), { scopes: ['read', 'admin'] })).toThrow(
      expect.objectContaining({ code: 'insufficient_scope', status: 403, scopes: ['read', 'admin'] }),
    )
  })

  it('requires any one of the roles', () => {
    expect(() => checkAccess(auth(), { roles: ['admin', 'editor'] })).not.toThrow()
    expect(() => checkAccess(auth(), { roles: ['admin'] })).toThrow(
      expect.objectContaining({ reason: 'missing_role' }),
    )
  })

  it('requires every permission', () => {
    expect(() => checkAccess(auth(), { permissions: ['posts:write'] })).not.toThrow()
    expect(() => checkAccess(auth(), { permissions: ['posts:write', 'posts:delete'] })).toThrow(
      expect.objectContaining({ reason: 'missing_permission' }),
    )
  })

  it('throws a TypeError for requirements that cannot be right', () => {
    expect(() => normalizeRequirements({ scopes: ['two words'] })).toThrow(TypeError)
    expect(() => normalizeRequirements({ roles: 'admin' as never })).toThrow(TypeError)
    expect(() => normalizeRequirements({ scopes: ['a"b'] })).toThrow(TypeError)
  })
})
