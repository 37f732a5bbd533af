import type { Kysely, Migration } from 'kysely'

export const authorizationCodes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('authorization_codes')
      .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('code_challenge', 'varchar(128)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('session_id', 'varchar(64)')
      .execute()
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('authorization_codes').ifExists().execute()
  },
}
