import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { Audit } from './audit.js'
import type { Config } from './config.js'
import { PasswordHasher } from './security/password-hash.js'
import { SecretMac } from './security/secret-mac.js'
import { createStore } from './store/kysely-store.js'
import type { Client, Store, User } from './store/store.js'
import { Keystore } from './tokens/keys.js'
import { loadSecretKey, type SecretKey } from './tokens/secret-key.js'

export const GRANT_TYPES = ['password', 'client_credentials', 'refresh_token', 'authorization_code'] as const

/** What the administrative commands need: the store and the deployment's keys, no HTTP. */
export interface AdminContext {
  config: Config
  store: Store
  secret: SecretKey
  secretGenerated: boolean
  now: () => number
  passwords: PasswordHasher
  clientSecrets: SecretMac
  apiKeys: SecretMac
  audit: Audit
}

/**
 * Opens the store (migrating it) and the deployment's keys for administrative work, without HTTP.
 *
 * @example
 * const admin = await openAdmin(loadConfig(), pino())
 */
export async function openAdmin(
  config: Config,
  log: FastifyBaseLogger,
  store?: Store,
): Promise<AdminContext> {
  const db = store ?? createStore(config.databaseUrl, { poolSize: 2 })
  await db.migrate()
  const { key, generated } = loadSecretKey(config.secretKey, config.dataDir)
  return {
    config,
    store: db,
    secret: key,
    secretGenerated: generated,
    now: Date.now,
    passwords: new PasswordHasher(),
    clientSecrets: new SecretMac(key.derive('client-secret-mac')),
    apiKeys: new SecretMac(key.derive('api-key-mac')),
    audit: new Audit(db, log),
  }
}

const USERNAME = /^[A-Za-z0-9._@+-]{1,255}$/
const ROLE = /^[A-Za-z0-9._:-]{1,64}$/

export class AdminInputError extends Error {}

export function validateRoles(roles: string[]): string[] {
  for (const role of roles)
    if (!ROLE.test(role)) throw new AdminInputError(`invalid role "${role}": use letters, digits and . _ : -`)
  return [...new Set(roles)]
}

/**
 * Creates a user with an argon2id password hash and roles; audited.
 *
 * @example
 * await createUser(admin, { username: 'alice', password: 'a long passphrase', roles: ['admin'] })
 */
export async function createUser(
  admin: AdminContext,
  input: { username: string; password: string; roles: string[] },
): Promise<User> {
  if (!USERNAME.test(input.username))
    throw new AdminInputError('the username must be 1-255 letters, digits or . _ @ + -')
  checkPasswordPolicy(input.password)
  const now = admin.now()
  const user: User = {
    id: randomUUID(),
    username: input.username,
    passwordHash: await admin.passwords.hash(input.password),
    roles: validateRoles(input.roles),
    disabledAt: null,
    createdAt: now,
    passwordChangedAt: now,
    tokensValidAfter: null,
  }
  await admin.store.createUser(user)
  await admin.audit.record({ type: 'user_created', at: now, userId: user.id })
  return user
}

/**
 * Disables a user and revokes every session of theirs in one transaction; audited.
 *
 * @example
 * const { revoked } = await disableUser(admin, 'alice')
 */
export async function disableUser(
  admin: AdminContext,
  username: string,
): Promise<{ user: User; revoked: number }> {
  const user = await admin.store.findUserByUsername(username)
  if (!user) throw new AdminInputError(`no user named "${username}"`)
  const now = admin.now()
  const revoked = await admin.store.disableUser(user.id, now)
  await admin.audit.record({
    type: 'user_disabled',
    at: now,
    userId: user.id,
    detail: { sessions_revoked: revoked },
  })
  return { user, revoked }
}

/**
 * Sets a new password (argon2id) and ends every session of the user; audited.
 *
 * @example
 * const { revoked } = await changePassword(admin, 'alice', 'a new long passphrase')
 */
export async function changePassword(
  admin: AdminContext,
  username: string,
  password: string,
): Promise<{ user: User; revoked: number }> {
  const user = await admin.store.findUserByUsername(username)
  if (!user) throw new AdminInputError(`no user named "${username}"`)
  checkPasswordPolicy(password)
  const now = admin.now()
  const revoked = await admin.store.changePassword(user.id, await admin.passwords.hash(password), now)
  await admin.audit.record({
    type: 'password_changed',
    at: now,
    userId: user.id,
    detail: { sessions_revoked: revoked },
  })
  return { user, revoked }
}

function checkPasswordPolicy(password: string): void {
  if (password.length < 8) throw new AdminInputError('the password must be at least 8 characters')
  if (password.length > 1024) throw new AdminInputError('the password must be at most 1024 characters')
}

/**
 * Replaces a user's roles. Nothing is revoked: access tokens carry the old roles until they
 * expire, and the next refresh of each session issues tokens with the new ones.
 *
 * @example
 * await setRoles(admin, 'alice', ['admin', 'editor'])
 */
export async function setRoles(admin: AdminContext, username: string, roles: string[]): Promise<User> {
  const user = await admin.store.findUserByUsername(username)
  if (!user) throw new AdminInputError(`no user named "${username}"`)
  const valid = validateRoles(roles)
  await admin.store.setUserRoles(user.id, valid)
  return { ...user, roles: valid }
}

/**
 * Registers a client: public (a browser or mobile app, `isPublic`) or confidential (`secret`,
 * stored as a keyed MAC), with its grant types, scopes and exact redirect URIs; audited.
 *
 * @example
 * await createClient(admin, { id: 'spa', isPublic: true, grantTypes: ['authorization_code', 'refresh_token'],
 *   scopes: ['read'], redirectUris: ['https://app.example.com/callback'] })
 */
export async function createClient(
  admin: AdminContext,
  input: {
    id: string
    secret?: string
    isPublic: boolean
    grantTypes: string[]
    scopes: string[]
    redirectUris: string[]
    requireConsent?: boolean
  },
): Promise<Client> {
  if (!/^[A-Za-z0-9._:-]{1,255}$/.test(input.id))
    throw new AdminInputError('the client id must be 1-255 letters, digits or . _ : -')
  if (input.isPublic === (input.secret !== undefined))
    throw new AdminInputError('give exactly one of --secret and --public')
  if (input.secret !== undefined && input.secret.length < 16)
    throw new AdminInputError('the client secret must be at least 16 characters')
  if (input.grantTypes.length === 0) throw new AdminInputError('--grant-types needs at least one grant type')
  for (const grant of input.grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(grant)) {
      throw new AdminInputError(`unknown grant type "${grant}": use ${GRANT_TYPES.join(', ')}`)
    }
  }
  if (input.isPublic && input.grantTypes.includes('client_credentials')) {
    throw new AdminInputError('a public client cannot use client_credentials')
  }
  for (const scope of input.scopes)
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope)) throw new AdminInputError(`invalid scope "${scope}"`)
  for (const uri of input.redirectUris) {
    try {
      new URL(uri)
    } catch {
      throw new AdminInputError(`invalid redirect URI "${uri}"`)
    }
  }
  const now = admin.now()
  const client: Client = {
    id: input.id,
    secretHash: input.secret === undefined ? null : admin.clientSecrets.digest(input.secret),
    isPublic: input.isPublic,
    grantTypes: [...new Set(input.grantTypes)],
    scopes: [...new Set(input.scopes)],
    redirectUris: input.redirectUris,
    requireConsent: input.requireConsent ?? false,
    createdAt: now,
  }
  await admin.store.createClient(client)
  await admin.audit.record({ type: 'client_created', at: now, clientId: client.id })
  return client
}

/**
 * Rotates the signing key. With `activateIn` (seconds) the new key is published at once and
 * signs only after that delay — zero downtime for verifiers that cache the JWKS; without it
 * (or 0) it signs at once, as after a key compromise.
 *
 * @example
 * await rotateSigningKey(admin, { activateIn: 120 })
 */
export async function rotateSigningKey(
  admin: AdminContext,
  options: { activateIn?: number } = {},
): Promise<{ kid: string; alg: string; activatesAt: number }> {
  const keystore = new Keystore(
    admin.store,
    admin.secret,
    admin.config.signingAlg,
    admin.config.accessTokenTtl,
    admin.now,
  )
  const row = await keystore.rotate(options.activateIn ?? 0)
  const activatesAt = row.activatesAt ?? row.createdAt
  await admin.audit.record({
    type: 'key_rotated',
    at: admin.now(),
    detail: { kid: row.kid, alg: row.alg, activates_at: activatesAt },
  })
  if (admin.config.redisUrl)
    await announceKeyRotation(admin.config.redisUrl, `${admin.config.redisPrefix}changes`)
  return { kid: row.kid, alg: row.alg, activatesAt }
}

// Running servers reload keys on this message at once; without it they notice on their next poll.
async function announceKeyRotation(url: string, channel: string): Promise<void> {
  const { Redis } = await import('ioredis')
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.publish(channel, JSON.stringify({ type: 'keys_rotated' }))
  } catch {
    // Best effort: the database is the truth and every instance polls it.
  } finally {
    redis.disconnect()
  }
}
