import { randomUUID } from 'node:crypto'
import { type CompiledQuery, type Kysely, Migrator, type Selectable, sql, type Transaction } from 'kysely'
import { OAuthError, StoreUnavailable } from '../errors.js'
import { type DatabaseHandle, type OpenOptions, openDatabase } from './database.js'
import { initial } from './migrations/0001-initial.js'
import { authorizationCodes } from './migrations/0002-authorization-codes.js'
import { keyActivation } from './migrations/0003-key-activation.js'
import { userTokenCutoff } from './migrations/0004-user-token-cutoff.js'
import { prepareQuery } from './prepared-query.js'
import type {
  ApiKeysTable,
  AuthorizationCodesTable,
  ClientsTable,
  Database,
  SessionsTable,
  SigningKeysTable,
  UsersTable,
} from './schema.js'
import {
  AlreadyExists,
  type ApiKey,
  type AuditEvent,
  type AuditType,
  type AuthorizationCode,
  type Client,
  type RedeemResult,
  type RotateInput,
  type RotateResult,
  type Session,
  type SigningKeyRow,
  type Store,
  type StoreCapabilities,
  type User,
} from './store.js'

const MIGRATIONS = {
  '0001-initial': initial,
  '0002-authorization-codes': authorizationCodes,
  '0003-key-activation': keyActivation,
  '0004-user-token-cutoff': userTokenCutoff,
}

const list = (text: string): string[] => (text === '' ? [] : text.split(' '))

const toUser = (r: Selectable<UsersTable>): User => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  roles: list(r.roles),
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
  passwordChangedAt: r.password_changed_at,
  tokensValidAfter: r.tokens_valid_after,
})

const toClient = (r: Selectable<ClientsTable>): Client => ({
  id: r.id,
  secretHash: r.secret_hash,
  isPublic: r.is_public === 1,
  grantTypes: list(r.grant_types),
  scopes: list(r.scopes),
  redirectUris: list(r.redirect_uris),
  requireConsent: r.require_consent === 1,
  createdAt: r.created_at,
})

const toSession = (r: Selectable<SessionsTable>): Session => ({
  id: r.id,
  userId: r.user_id,
  clientId: r.client_id,
  scope: r.scope,
  generation: r.generation,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  idleExpiresAt: r.idle_expires_at,
  absoluteExpiresAt: r.absolute_expires_at,
  rotatedAt: r.rotated_at,
  prevRotatedAt: r.prev_rotated_at,
  revokedAt: r.revoked_at,
  revokedReason: r.revoked_reason,
  userAgent: r.user_agent,
  ip: r.ip,
})

const toKey = (r: Selectable<SigningKeysTable>): SigningKeyRow => ({
  kid: r.kid,
  alg: r.alg,
  publicJwk: r.public_jwk,
  privateKey: r.private_key,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
  publishUntil: r.publish_until,
  activatesAt: r.activates_at,
})

const toApiKey = (r: Selectable<ApiKeysTable>): ApiKey => ({
  id: r.id,
  name: r.name,
  keyHash: r.key_hash,
  scopes: list(r.scopes),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
})

const toCode = (r: Selectable<AuthorizationCodesTable>): AuthorizationCode => ({
  codeHash: r.code_hash,
  clientId: r.client_id,
  userId: r.user_id,
  redirectUri: r.redirect_uri,
  scope: r.scope,
  codeChallenge: r.code_challenge,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  sessionId: r.session_id,
})

interface PendingRotation {
  input: RotateInput
  resolve(result: RotateResult): void
  reject(error: unknown): void
}

/** The one {@link Store} implementation, on Kysely, for SQLite and PostgreSQL alike. */
export class KyselyStore implements Store {
  readonly capabilities: StoreCapabilities
  readonly db: Kysely<Database>
  readonly #handle: DatabaseHandle
  #pending: PendingRotation[] = []
  readonly #rotation: (p: RotationParams) => CompiledQuery<RotationRow>
  readonly #batchRotation: (p: BatchRotationParams) => CompiledQuery<RotationRow>
  readonly #currentSession: (p: { sessionId: string }) => CompiledQuery<Selectable<SessionsTable>>

  constructor(handle: DatabaseHandle) {
    this.#handle = handle
    this.db = handle.db
    this.capabilities = handle.capabilities
    this.#rotation = prepareQuery((p: RotationParams) => rotationQuery(this.db, p), {
      sessionId: 'sentinel:session-id',
      generation: -1_000_001,
      clientId: 'sentinel:client-id',
      now: -1_000_002,
      idleUntil: -1_000_003,
    })
    this.#currentSession = prepareQuery(
      (p: { sessionId: string }) => this.db.selectFrom('sessions').selectAll().where('id', '=', p.sessionId),
      { sessionId: 'sentinel:current-session' },
    )
    this.#batchRotation = prepareQuery((p: BatchRotationParams) => batchRotationQuery(this.db, p), {
      sessionIds: ['sentinel:session-ids'],
      generations: [-1_000_004],
      clientIds: ['sentinel:client-ids'],
      nows: [-1_000_005],
      idleUntils: [-1_000_006],
    })
  }

  async #run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (error) {
      if (error instanceof OAuthError || error instanceof AlreadyExists) throw error
      if (this.#handle.isUniqueViolation(error)) throw new AlreadyExists('already exists', { cause: error })
      throw new StoreUnavailable(error)
    }
  }

  async migrate(): Promise<string[]> {
    const migrator = new Migrator({ db: this.db, provider: { getMigrations: async () => MIGRATIONS } })
    const { error, results } = await migrator.migrateToLatest()
    if (error) throw error
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
  }

  ping(): Promise<void> {
    return this.#run(async () => {
      await this.db.selectFrom('signing_keys').select('kid').limit(1).execute()
    })
  }

  async close(): Promise<void> {
    await this.db.destroy()
  }

  createUser(user: User): Promise<void> {
    return this.#run(async () => {
      await this.db
        .insertInto('users')
        .values({
          id: user.id,
          username: user.username,
          password_hash: user.passwordHash,
          roles: user.roles.join(' '),
          disabled_at: user.disabledAt,
          created_at: user.createdAt,
          password_changed_at: user.passwordChangedAt,
          tokens_valid_after: user.tokensValidAfter,
        })
        .execute()
    })
  }

  findUserByUsername(username: string): Promise<User | undefined> {
    return this.#run(async () => {
      const row = await this.db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst()
      return row && toUser(row)
    })
  }

  findUserById(id: string): Promise<User | undefined> {
    return this.#run(async () => {
      const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toUser(row)
    })
  }

  disableUser(userId: string, now: number): Promise<number> {
    return this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        await trx.updateTable('users').set({ disabled_at: now }).where('id', '=', userId).execute()
        return revokeSessionsOf(trx, userId, 'user_disabled', now)
      }),
    )
  }

  changePassword(userId: string, passwordHash: string, now: number): Promise<number> {
    return this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({ password_hash: passwordHash, password_changed_at: now })
          .where('id', '=', userId)
          .execute()
        return revokeSessionsOf(trx, userId, 'password_changed', now)
      }),
    )
  }

  setUserRoles(userId: string, roles: string[]): Promise<void> {
    return this.#run(async () => {
      await this.db
        .updateTable('users')
        .set({ roles: roles.join(' ') })
        .where('id', '=', userId)
        .execute()
    })
  }

  createClient(client: Client): Promise<void> {
    return this.#run(async () => {
      await this.db
        .insertInto('clients')
        .values({
          id: client.id,
          secret_hash: client.secretHash,
          is_public: client.isPublic ? 1 : 0,
          grant_types: client.grantTypes.join(' '),
          scopes: client.scopes.join(' '),
          redirect_uris: client.redirectUris.join(' '),
          require_consent: client.requireConsent ? 1 : 0,
          created_at: client.createdAt,
        })
        .execute()
    })
  }

  findClient(id: string): Promise<Client | undefined> {
    return this.#run(async () => {
      const row = await this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toClient(row)
    })
  }

  listRedirectUris(): Promise<string[]> {
    return this.#run(async () => {
      const rows = await this.db.selectFrom('clients').select('redirect_uris').execute()
      return rows.flatMap((r) => list(r.redirect_uris))
    })
  }

  listClientScopes(): Promise<string[]> {
    return this.#run(async () => {
      const rows = await this.db.selectFrom('clients').select('scopes').execute()
      return [...new Set(rows.flatMap((r) => list(r.scopes)))].sort()
    })
  }

  createSession(s: Session): Promise<void> {
    return this.#run(async () => {
      await this.db
        .insertInto('sessions')
        .values({
          id: s.id,
          user_id: s.userId,
          client_id: s.clientId,
          scope: s.scope,
          generation: s.generation,
          created_at: s.createdAt,
          last_used_at: s.lastUsedAt,
          idle_expires_at: s.idleExpiresAt,
          absolute_expires_at: s.absoluteExpiresAt,
          rotated_at: s.rotatedAt,
          prev_rotated_at: s.prevRotatedAt,
          revoked_at: s.revokedAt,
          revoked_reason: s.revokedReason,
          user_agent: s.userAgent,
          ip: s.ip,
        })
        .execute()
    })
  }

  findSession(id: string): Promise<Session | undefined> {
    return this.#run(async () => {
      const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toSession(row)
    })
  }

  rotateRefreshToken(input: RotateInput): Promise<RotateResult> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ input, resolve, reject })
      if (this.#pending.length === 1) setImmediate(() => this.#flushRotations())
    })
  }

  // Group commit: every rotation that arrived during one turn of the event loop is committed
  // together, so a burst pays for one durable commit (and on PostgreSQL one round trip) instead
  // of one each. Results are released only after the commit, so no response can announce a
  // rotation that is not on disk. A second presentation of a session already in the batch waits
  // for the next one, so it sees the first one's outcome exactly as if they had run in turn.
  async #flushRotations(): Promise<void> {
    const batch: PendingRotation[] = []
    const later: PendingRotation[] = []
    const seen = new Set<string>()
    for (const item of this.#pending) {
      if (seen.has(item.input.sessionId) || batch.length === MAX_BATCH) later.push(item)
      else {
        seen.add(item.input.sessionId)
        batch.push(item)
      }
    }
    const sync = this.#handle.sync
    if (sync?.inTransaction()) {
      // A transaction begun through Kysely is still open on the connection (it awaits something);
      // a batch run now would become part of it. The batch waits for the next turn instead.
      this.#pending = [...batch, ...later]
      setImmediate(() => this.#flushRotations())
      return
    }
    this.#pending = later
    if (later.length > 0) setImmediate(() => this.#flushRotations())
    if (batch.length === 0) return
    try {
      const results = await this.#run(async () =>
        sync
          ? // In process, every statement of the batch runs without a promise or a microtask apiece.
            sync.transaction((all) =>
              batch.map(({ input }): RotateResult => {
                const { sessionId, generation, clientId, now, idleTtlMs } = input
                const [row] = all(
                  this.#rotation({ sessionId, generation, clientId, now, idleUntil: now + idleTtlMs }),
                )
                if (row) return outcome(row)
                return outcome(undefined, all(this.#currentSession({ sessionId }))[0])
              }),
            )
          : rotateInOneStatement(this.db, this.#batchRotation, batch),
      )
      for (const [i, item] of batch.entries()) item.resolve(results[i]!)
    } catch (error) {
      for (const item of batch) item.reject(error)
    }
  }

  revokeSession(id: string, reason: string, now: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.db
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    })
  }

  revokeUserSessions(userId: string, reason: string, now: number): Promise<number> {
    return this.#run(() => this.db.transaction().execute((trx) => revokeSessionsOf(trx, userId, reason, now)))
  }

  listActiveSessions(userId: string, now: number): Promise<Session[]> {
    return this.#run(async () => {
      const rows = await this.db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('idle_expires_at', '>', now)
        .where('absolute_expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .execute()
      return rows.map(toSession)
    })
  }

  revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    return this.#run(async () => {
      await this.db
        .insertInto('revoked_access_tokens')
        .values({ jti, expires_at: expiresAt })
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute()
    })
  }

  isAccessTokenRevoked(jti: string, now: number): Promise<boolean> {
    return this.#run(async () => {
      const row = await this.db
        .selectFrom('revoked_access_tokens')
        .select('jti')
        .where('jti', '=', jti)
        .where('expires_at', '>', now)
        .executeTakeFirst()
      return row !== undefined
    })
  }

  insertSigningKey(
    key: SigningKeyRow,
    retireOthersAt: number | null,
    publishUntil: number | null,
  ): Promise<void> {
    return this.#run(() =>
      this.db.transaction().execute(async (trx) => {
        if (retireOthersAt !== null) {
          await trx
            .updateTable('signing_keys')
            .set({ retired_at: retireOthersAt, publish_until: publishUntil })
            .where('retired_at', 'is', null)
            .execute()
        }
        await trx
          .insertInto('signing_keys')
          .values({
            kid: key.kid,
            alg: key.alg,
            public_jwk: key.publicJwk,
            private_key: key.privateKey,
            created_at: key.createdAt,
            retired_at: key.retiredAt,
            publish_until: key.publishUntil,
            activates_at: key.activatesAt,
          })
          .execute()
      }),
    )
  }

  listPublishedSigningKeys(now: number): Promise<SigningKeyRow[]> {
    return this.#run(async () => {
      const rows = await this.db
        .selectFrom('signing_keys')
        .selectAll()
        .where((eb) => eb.or([eb('retired_at', 'is', null), eb('publish_until', '>', now)]))
        .orderBy('created_at', 'desc')
        .execute()
      return rows.map(toKey)
    })
  }

  createApiKey(key: ApiKey): Promise<void> {
    return this.#run(async () => {
      await this.db
        .insertInto('api_keys')
        .values({
          id: key.id,
          name: key.name,
          key_hash: key.keyHash,
          scopes: key.scopes.join(' '),
          created_at: key.createdAt,
          expires_at: key.expiresAt,
          last_used_at: key.lastUsedAt,
          revoked_at: key.revokedAt,
        })
        .execute()
    })
  }

  findApiKeyByHash(keyHash: string): Promise<ApiKey | undefined> {
    return this.#run(async () => {
      const row = await this.db
        .selectFrom('api_keys')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .executeTakeFirst()
      return row && toApiKey(row)
    })
  }

  touchApiKey(id: string, now: number): Promise<void> {
    return this.#run(async () => {
      await this.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute()
    })
  }

  listApiKeys(): Promise<ApiKey[]> {
    return this.#run(async () => {
      const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'asc').execute()
      return rows.map(toApiKey)
    })
  }

  revokeApiKey(id: string, now: number): Promise<boolean> {
    return this.#run(async () => {
      const result = await this.db
        .updateTable('api_keys')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    })
  }

  createAuthorizationCode(code: AuthorizationCode): Promise<void> {
    return this.#run(async () => {
      await this.db
        .insertInto('authorization_codes')
        .values({
          code_hash: code.codeHash,
          client_id: code.clientId,
          user_id: code.userId,
          redirect_uri: code.redirectUri,
          scope: code.scope,
          code_challenge: code.codeChallenge,
          created_at: code.createdAt,
          expires_at: code.expiresAt,
          used_at: code.usedAt,
          session_id: code.sessionId,
        })
        .execute()
    })
  }

  redeemAuthorizationCode(codeHash: string, now: number, sessionId: string): Promise<RedeemResult> {
    return this.#run(async () => {
      // Conditional update, not read-then-write: two concurrent redeemers cannot both win.
      const row = await this.db
        .updateTable('authorization_codes')
        .set({ used_at: now, session_id: sessionId })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returningAll()
        .executeTakeFirst()
      if (row) return { kind: 'redeemed', code: toCode(row) }
      const current = await this.db
        .selectFrom('authorization_codes')
        .selectAll()
        .where('code_hash', '=', codeHash)
        .executeTakeFirst()
      return current?.used_at != null ? { kind: 'used', code: toCode(current) } : { kind: 'missing' }
    })
  }

  recordAudit(event: AuditEvent): Promise<void> {
    return this.#run(async () => {
      await this.db
        .insertInto('audit_events')
        .values({
          id: randomUUID(),
          at: event.at,
          type: event.type,
          user_id: event.userId ?? null,
          client_id: event.clientId ?? null,
          session_id: event.sessionId ?? null,
          ip: event.ip ?? null,
          detail: event.detail ? JSON.stringify(event.detail) : null,
        })
        .execute()
    })
  }

  listAudit(filter: { type?: AuditType; sessionId?: string; userId?: string }): Promise<AuditEvent[]> {
    return this.#run(async () => {
      let query = this.db.selectFrom('audit_events').selectAll().orderBy('at', 'asc')
      if (filter.type) query = query.where('type', '=', filter.type)
      if (filter.sessionId) query = query.where('session_id', '=', filter.sessionId)
      if (filter.userId) query = query.where('user_id', '=', filter.userId)
      const rows = await query.execute()
      return rows.map((r) => ({
        type: r.type as AuditType,
        at: r.at,
        userId: r.user_id,
        clientId: r.client_id,
        sessionId: r.session_id,
        ip: r.ip,
        ...(r.detail ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}),
      }))
    })
  }

  purgeExpired(now: number): Promise<void> {
    return this.#run(async () => {
      await this.db.deleteFrom('revoked_access_tokens').where('expires_at', '<=', now).execute()
      await this.db.deleteFrom('signing_keys').where('publish_until', '<=', now).execute()
      await this.db
        .deleteFrom('authorization_codes')
        .where('expires_at', '<=', now - 86_400_000)
        .execute()
      // Expired sessions are kept a day so a late replay still reads as reuse in the audit trail.
      await this.db
        .deleteFrom('sessions')
        .where((eb) =>
          eb.or([
            eb('absolute_expires_at', '<=', now - 86_400_000),
            eb('idle_expires_at', '<=', now - 86_400_000),
          ]),
        )
        .execute()
    })
  }
}

type Executor = Kysely<Database> | Transaction<Database>

type RotationParams = {
  sessionId: string
  generation: number
  clientId: string
  now: number
  idleUntil: number
}

// One conditional statement: the update matches only the live generation of a live session of
// this client, so of any number of concurrent presenters of one token exactly one succeeds.
function rotationQuery(db: Executor, p: RotationParams) {
  return (
    db
      .updateTable('sessions')
      .set((eb) => ({
        generation: eb('generation', '+', 1),
        prev_rotated_at: eb.ref('rotated_at'),
        rotated_at: p.now,
        last_used_at: p.now,
        idle_expires_at: eb
          .case()
          .when('absolute_expires_at', '<', eb.val(p.idleUntil))
          .then(eb.ref('absolute_expires_at'))
          .else(eb.val(p.idleUntil))
          .end(),
      }))
      .where('id', '=', p.sessionId)
      .where('generation', '=', p.generation)
      .where('client_id', '=', p.clientId)
      .where('revoked_at', 'is', null)
      .where('idle_expires_at', '>', p.now)
      .where('absolute_expires_at', '>', p.now)
      .returning(['id', 'user_id', 'client_id', 'scope', 'generation'])
      // The user's current roles ride along in the same statement: one round trip per rotation.
      .returning((eb) =>
        eb
          .selectFrom('users')
          .select('users.roles')
          .whereRef('users.id', '=', 'sessions.user_id')
          .as('user_roles'),
      )
  )
}

type RotationRow = Pick<
  Selectable<SessionsTable>,
  'id' | 'user_id' | 'client_id' | 'scope' | 'generation'
> & { user_roles: string | null }

/** One presentation's outcome: the row its rotation returned, else the session as it stands. */
function outcome(rotated: RotationRow | undefined, current?: Selectable<SessionsTable>): RotateResult {
  if (rotated) {
    const { id, user_id, client_id, scope, generation, user_roles } = rotated
    return {
      kind: 'rotated',
      session: { id, userId: user_id, clientId: client_id, scope, generation },
      userRoles: list(user_roles ?? ''),
    }
  }
  return current ? { kind: 'stale', session: toSession(current) } : { kind: 'missing' }
}

type BatchRotationParams = {
  sessionIds: string[]
  generations: number[]
  clientIds: string[]
  nows: number[]
  idleUntils: number[]
}

/** The most rotations one statement carries; more wait for the next turn. */
const MAX_BATCH = 256

// The batch form of the rotation statement, for PostgreSQL: each presentation's session,
// generation, client, clock and idle deadline arrive as one element of five arrays, so its text —
// and its prepared plan — is the same for any batch size. Each session appears at most once (the caller defers duplicates), and they are
// sorted by id, so two batches in flight lock shared rows in the same order and cannot deadlock.
function batchRotationQuery(db: Executor, p: BatchRotationParams) {
  const presented = db
    .selectNoFrom([
      sql<string>`unnest(${p.sessionIds}::text[])`.as('id'),
      sql<number>`unnest(${p.generations}::integer[])`.as('generation'),
      sql<string>`unnest(${p.clientIds}::text[])`.as('client_id'),
      sql<number>`unnest(${p.nows}::bigint[])`.as('now'),
      sql<number>`unnest(${p.idleUntils}::bigint[])`.as('idle_until'),
    ])
    .as('presented')
  return db
    .updateTable('sessions')
    .from(presented)
    .set((eb) => ({
      generation: eb('sessions.generation', '+', 1),
      prev_rotated_at: eb.ref('sessions.rotated_at'),
      rotated_at: eb.ref('presented.now'),
      last_used_at: eb.ref('presented.now'),
      idle_expires_at: eb
        .case()
        .when('sessions.absolute_expires_at', '<', eb.ref('presented.idle_until'))
        .then(eb.ref('sessions.absolute_expires_at'))
        .else(eb.ref('presented.idle_until'))
        .end(),
    }))
    .whereRef('sessions.id', '=', 'presented.id')
    .whereRef('sessions.generation', '=', 'presented.generation')
    .whereRef('sessions.client_id', '=', 'presented.client_id')
    .where('sessions.revoked_at', 'is', null)
    .whereRef('sessions.idle_expires_at', '>', 'presented.now')
    .whereRef('sessions.absolute_expires_at', '>', 'presented.now')
    .returning([
      'sessions.id',
      'sessions.user_id',
      'sessions.client_id',
      'sessions.scope',
      'sessions.generation',
    ])
    .returning((eb) =>
      eb
        .selectFrom('users')
        .select('users.roles')
        .whereRef('users.id', '=', 'sessions.user_id')
        .as('user_roles'),
    )
}

async function rotateInOneStatement(
  db: Executor,
  compiled: (p: BatchRotationParams) => CompiledQuery<RotationRow>,
  batch: PendingRotation[],
): Promise<RotateResult[]> {
  const inputs = batch.map((item) => item.input).sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1))
  const { rows } = await retryOnDeadlock(() =>
    db.executeQuery(
      compiled({
        sessionIds: inputs.map((input) => input.sessionId),
        generations: inputs.map((input) => input.generation),
        clientIds: inputs.map((input) => input.clientId),
        nows: inputs.map((input) => input.now),
        idleUntils: inputs.map((input) => input.now + input.idleTtlMs),
      }),
    ),
  )
  const rotated = new Map(rows.map((row) => [row.id, row]))
  const unmatched = batch
    .filter((item) => !rotated.has(item.input.sessionId))
    .map((item) => item.input.sessionId)
  const current = new Map<string, Selectable<SessionsTable>>()
  if (unmatched.length > 0) {
    const found = await db.selectFrom('sessions').selectAll().where('id', 'in', unmatched).execute()
    for (const row of found) current.set(row.id, row)
  }
  return batch.map(({ input }) => outcome(rotated.get(input.sessionId), current.get(input.sessionId)))
}

// Sorted batches cannot deadlock each other, but a batch can meet another writer (a revocation
// of many sessions, say) that locks rows in another order; PostgreSQL then aborts one of them,
// and the aborted statement changed nothing, so running it again is safe.
async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if ((error as { code?: unknown }).code !== '40P01' || attempt >= attempts) throw error
    }
  }
}

// Ends every session of a user, and with them the user's session-less access tokens.
async function revokeSessionsOf(db: Executor, userId: string, reason: string, now: number): Promise<number> {
  await db.updateTable('users').set({ tokens_valid_after: now }).where('id', '=', userId).execute()
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/**
 * Opens the database named by `url` (`sqlite:…` or `postgres://…`) and returns its store.
 *
 * @example
 * const store = createStore('sqlite:./.tessera/tessera.db')
 * await store.migrate()
 */
export function createStore(url: string, options: OpenOptions = {}): KyselyStore {
  return new KyselyStore(openDatabase(url, options))
}
