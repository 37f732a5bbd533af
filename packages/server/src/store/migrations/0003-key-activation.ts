import type { Kysely, Migration } from 'kysely'

/** A signing key can be published before it signs (zero-downtime rotation). */
export const keyActivation: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('signing_keys').addColumn('activates_at', 'bigint').execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('signing_keys').dropColumn('activates_at').execute()
  },
}
