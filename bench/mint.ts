import type { KyselyStore } from '../packages/server/dist/index.js'
import { RefreshTokenCodec } from '../packages/server/dist/tokens/refresh-token.js'
import type { SecretKey } from '../packages/server/dist/tokens/secret-key.js'

/**
 * Pre-mints refresh tokens straight into the database (one session each, in one transaction),
 * so the load generator can present every token exactly once without a password login apiece.
 */
export async function mintRefreshTokens(
  store: KyselyStore,
  secret: SecretKey,
  input: { count: number; clientId: string; userId: string; scope: string },
): Promise<string[]> {
  const codec = new RefreshTokenCodec(secret.derive('refresh-token-mac'))
  const now = Date.now()
  const tokens: string[] = []
  await store.db.transaction().execute(async (trx) => {
    for (let start = 0; start < input.count; start += 500) {
      const rows = []
      for (let i = start; i < Math.min(input.count, start + 500); i++) {
        const id = RefreshTokenCodec.newSessionId()
        rows.push({
          id,
          user_id: input.userId,
          client_id: input.clientId,
          scope: input.scope,
          generation: 0,
          created_at: now,
          last_used_at: now,
          idle_expires_at: now + 86_400_000,
          absolute_expires_at: now + 86_400_000,
          rotated_at: null,
          prev_rotated_at: null,
          revoked_at: null,
          revoked_reason: null,
          user_agent: 'bench',
          ip: '127.0.0.1',
        })
        tokens.push(codec.encode(id, 0))
      }
      await trx.insertInto('sessions').values(rows).execute()
    }
  })
  return tokens
}
