import { InsufficientScopeError } from './errors.js'

/** Role → permissions, e.g. `{ admin: ['users:read', 'users:write'], viewer: ['users:read'] }`. */
export type PermissionMap = Readonly<Record<string, readonly string[]>>

/** What a route needs. Scopes and permissions are all required; of the roles any one suffices. */
export interface AccessRequirements {
  readonly scopes?: readonly string[]
  readonly roles?: readonly string[]
  readonly permissions?: readonly string[]
  /** Whether `tsk_` API keys are accepted besides access tokens (checked by introspection). */
  readonly apiKeys?: boolean
  /** Let requests without credentials through with no `auth`; bad credentials still fail. */
  readonly optional?: boolean
}

/** Who made the request, as adapters put it on `request.auth`. */
export interface AuthInfo {
  readonly type: 'access_token' | 'api_key' | 'basic'
  readonly sub: string | undefined
  readonly clientId: string | undefined
  readonly scopes: readonly string[]
  readonly roles: readonly string[]
  readonly permissions: readonly string[]
  readonly sid?: string
  readonly jti?: string
  /** Expiry in seconds since the epoch, when known. */
  readonly exp?: number
  /** The verified token claims, or the introspection answer for an API key. */
  readonly claims: Readonly<Record<string, unknown>>
}

/** Expands roles into the union of their permissions. */
export function permissionsFor(roles: readonly string[], map: PermissionMap | undefined): string[] {
  if (!map || roles.length === 0) return []
  const permissions = new Set<string>()
  for (const role of roles) {
    if (!Object.hasOwn(map, role)) continue
    for (const permission of map[role] ?? []) permissions.add(permission)
  }
  return [...permissions]
}

export function splitScope(scope: string | undefined): string[] {
  return scope ? scope.split(' ').filter((item) => item.length > 0) : []
}

/**
 * Throws {@link InsufficientScopeError} unless `auth` meets `requirements`.
 *
 * @example
 * ```ts
 * checkAccess(request.auth, { scopes: ['orders:read'], roles: ['admin', 'support'] })
 * ```
 */
export function checkAccess(auth: AuthInfo, requirements: AccessRequirements): void {
  const scopes = requirements.scopes ?? []
  if (scopes.some((scope) => !auth.scopes.includes(scope))) {
    throw new InsufficientScopeError('missing_scope', scopes)
  }
  const roles = requirements.roles ?? []
  if (roles.length > 0 && !roles.some((role) => auth.roles.includes(role))) {
    throw new InsufficientScopeError('missing_role')
  }
  const permissions = requirements.permissions ?? []
  if (permissions.some((permission) => !auth.permissions.includes(permission))) {
    throw new InsufficientScopeError('missing_permission')
  }
}

/** Validates requirements once, when a route is declared, so typos fail at start-up. */
export function normalizeRequirements(requirements: AccessRequirements | undefined): AccessRequirements {
  const normalized = requirements ?? {}
  for (const field of ['scopes', 'roles', 'permissions'] as const) {
    const list = normalized[field]
    if (list === undefined) continue
    if (
      !Array.isArray(list) ||
      !list.every((item) => typeof item === 'string' && /^[\x21-\x7e]+$/.test(item))
    ) {
      throw new TypeError(`${field} must be an array of non-empty strings without spaces`)
    }
    if (field === 'scopes' && list.some((item) => item.includes('"') || item.includes('\\'))) {
      throw new TypeError('scopes must not contain quotes or backslashes (RFC 6749 §3.3)')
    }
  }
  return Object.freeze({ ...normalized })
}
