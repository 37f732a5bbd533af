import type { Kysely, Migration } from 'kysely'

/**
 * When a user's sessions were last all ended (sign out everywhere, password change, disable):
 * access tokens issued before it and bound to no session are refused too.
 */
export const userTokenCutoff: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('users').addColumn('tokens_valid_after', 'bigint').execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('users').dropColumn('tokens_valid_after').execute()
  },
}
