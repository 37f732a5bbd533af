import type { Kysely, Migration } from 'kysely'

export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('username', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('roles', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('disabled_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('password_changed_at', 'bigint', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('clients')
      .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('secret_hash', 'text')
      .addColumn('is_public', 'integer', (c) => c.notNull())
      .addColumn('grant_types', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('require_consent', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute()

    // A session is one refresh-token family: the generation counter names its only live token.
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(64)')
      .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('generation', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint', (c) => c.notNull())
      .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('rotated_at', 'bigint')
      .addColumn('prev_rotated_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .addColumn('revoked_reason', 'varchar(64)')
      .addColumn('user_agent', 'varchar(512)')
      .addColumn('ip', 'varchar(64)')
      .execute()
    await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute()

    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('alg', 'varchar(16)', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('retired_at', 'bigint')
      .addColumn('publish_until', 'bigint')
      .execute()

    await db.schema
      .createTable('revoked_access_tokens')
      .addColumn('jti', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute()

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('key_hash', 'varchar(128)', (c) => c.notNull().unique())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute()

    await db.schema
      .createTable('audit_events')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('type', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)')
      .addColumn('client_id', 'varchar(255)')
      .addColumn('session_id', 'varchar(64)')
      .addColumn('ip', 'varchar(64)')
      .addColumn('detail', 'text')
      .execute()
    await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute()
  },
  async down(db: Kysely<unknown>) {
    for (const table of [
      'audit_events',
      'api_keys',
      'revoked_access_tokens',
      'signing_keys',
      'sessions',
      'clients',
      'users',
    ]) {
      await db.schema.dropTable(table).ifExists().execute()
    }
  },
}
