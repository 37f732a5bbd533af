import { randomBytes, randomUUID } from 'node:crypto'
import type { ServerContext } from './context.js'
import type { ApiKey } from './store/store.js'

export const API_KEY_PREFIX = 'tsk_'

/**
 * Creates an API key: `tsk_` + 256 random bits, returned once; only its keyed MAC is stored.
 * The prefix lets secret scanners recognise a leaked key.
 */
export async function createApiKey(
  ctx: Pick<ServerContext, 'store' | 'apiKeys' | 'now' | 'audit'>,
  input: { name: string; scopes: string[]; expiresAt?: number | null },
): Promise<{ key: string; record: ApiKey }> {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url')
  const record: ApiKey = {
    id: randomUUID(),
    name: input.name,
    keyHash: ctx.apiKeys.digest(key),
    scopes: input.scopes,
    createdAt: ctx.now(),
    expiresAt: input.expiresAt ?? null,
    lastUsedAt: null,
    revokedAt: null,
  }
  await ctx.store.createApiKey(record)
  await ctx.audit.record({
    type: 'api_key_created',
    at: record.createdAt,
    detail: { id: record.id, name: record.name, scopes: record.scopes },
  })
  return { key, record }
}

/**
 * Revokes an API key by id; checks through introspection refuse it at once (guards that cache
 * API-key answers, for at most their cache time). Returns false when no active key has that id.
 *
 * @example
 * await revokeApiKey(admin, 'b2c8…')
 */
export async function revokeApiKey(ctx: Pick<ServerContext, 'store' | 'now'>, id: string): Promise<boolean> {
  return ctx.store.revokeApiKey(id, ctx.now())
}
