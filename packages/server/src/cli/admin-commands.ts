import { pino } from 'pino'
import {
  AdminInputError,
  changePassword,
  createClient,
  createUser,
  disableUser,
  openAdmin,
  rotateSigningKey,
  setRoles,
} from '../admin.js'
import { createApiKey, revokeApiKey } from '../api-keys.js'
import type { Config } from '../config.js'
import { AlreadyExists } from '../store/store.js'
import { commaList, parse, required, spaceList, UsageError } from './usage.js'

export interface Io {
  stdout: (line: string) => void
  stderr: (line: string) => void
  readStdin: () => Promise<string>
}

const json = { json: { type: 'boolean' } } as const

function print(io: Io, asJson: boolean | undefined, value: Record<string, unknown>, text: string): void {
  io.stdout(asJson ? JSON.stringify(value) : text)
}

async function withAdmin<T>(
  config: Config,
  run: (admin: Awaited<ReturnType<typeof openAdmin>>) => Promise<T>,
): Promise<T> {
  // Administrative commands keep stdout for their answer; their log lines (audit) go to stderr.
  const log = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }, pino.destination(2))
  const admin = await openAdmin(config, log)
  try {
    return await run(admin)
  } catch (error) {
    if (error instanceof AdminInputError) throw new UsageError(error.message)
    if (error instanceof AlreadyExists) throw new UsageError('that name is taken already')
    throw error
  } finally {
    await admin.store.close()
  }
}

export async function migrateCommand(config: Config, args: string[], io: Io): Promise<void> {
  parse(args, {})
  await withAdmin(config, async () => {
    io.stdout('database is up to date')
  })
}

export async function usersCommand(config: Config, args: string[], io: Io): Promise<void> {
  const [action, ...rest] = args
  if (action === 'create') {
    const { values } = parse(rest, {
      username: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      roles: { type: 'string' },
      ...json,
    })
    const username = required(values.username, '--username')
    if ((values.password !== undefined) === Boolean(values['password-stdin'])) {
      throw new UsageError('give exactly one of --password and --password-stdin')
    }
    const password = values.password ?? (await io.readStdin()).replace(/\r?\n$/, '')
    const user = await withAdmin(config, (admin) =>
      createUser(admin, { username, password, roles: commaList(values.roles) }),
    )
    print(
      io,
      values.json,
      { id: user.id, username: user.username, roles: user.roles },
      `created user ${user.username} (${user.id})`,
    )
    return
  }
  if (action === 'disable') {
    const { values, positionals } = parse(rest, json, 1)
    const username = required(positionals[0], 'the username')
    const { user, revoked } = await withAdmin(config, (admin) => disableUser(admin, username))
    print(
      io,
      values.json,
      { id: user.id, username: user.username, disabled: true, sessions_revoked: revoked },
      `disabled ${user.username}; revoked ${revoked} session(s)`,
    )
    return
  }
  if (action === 'password') {
    const { values, positionals } = parse(
      rest,
      { password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, ...json },
      1,
    )
    const username = required(positionals[0], 'the username')
    if ((values.password !== undefined) === Boolean(values['password-stdin'])) {
      throw new UsageError('give exactly one of --password and --password-stdin')
    }
    const password = values.password ?? (await io.readStdin()).replace(/\r?\n$/, '')
    const { user, revoked } = await withAdmin(config, (admin) => changePassword(admin, username, password))
    print(
      io,
      values.json,
      { id: user.id, username: user.username, sessions_revoked: revoked },
      `changed the password of ${user.username}; revoked ${revoked} session(s)`,
    )
    return
  }
  if (action === 'roles') {
    const { values, positionals } = parse(rest, { roles: { type: 'string' }, ...json }, 1)
    const username = required(positionals[0], 'the username')
    const roles = commaList(values.roles)
    const user = await withAdmin(config, (admin) => setRoles(admin, username, roles))
    print(
      io,
      values.json,
      { id: user.id, username: user.username, roles: user.roles },
      `${user.username} now has roles: ${user.roles.join(', ') || '(none)'}`,
    )
    return
  }
  throw new UsageError(
    `unknown command "users ${action ?? ''}": use users create, disable, password or roles`,
  )
}

export async function clientsCommand(config: Config, args: string[], io: Io): Promise<void> {
  const [action, ...rest] = args
  if (action !== 'create')
    throw new UsageError(`unknown command "clients ${action ?? ''}": use "clients create"`)
  const { values } = parse(rest, {
    id: { type: 'string' },
    secret: { type: 'string' },
    public: { type: 'boolean' },
    'grant-types': { type: 'string' },
    scopes: { type: 'string' },
    'redirect-uris': { type: 'string' },
    'require-consent': { type: 'boolean' },
    ...json,
  })
  const id = required(values.id, '--id')
  const grantTypes = commaList(required(values['grant-types'], '--grant-types'))
  const client = await withAdmin(config, (admin) =>
    createClient(admin, {
      id,
      ...(values.secret !== undefined ? { secret: values.secret } : {}),
      isPublic: Boolean(values.public),
      grantTypes,
      scopes: spaceList(values.scopes),
      redirectUris: commaList(values['redirect-uris']),
      requireConsent: Boolean(values['require-consent']),
    }),
  )
  print(
    io,
    values.json,
    {
      id: client.id,
      public: client.isPublic,
      grant_types: client.grantTypes,
      scopes: client.scopes,
      redirect_uris: client.redirectUris,
    },
    `created ${client.isPublic ? 'public' : 'confidential'} client ${client.id}`,
  )
}

export async function apiKeysCommand(config: Config, args: string[], io: Io): Promise<void> {
  const [action, ...rest] = args
  if (action === 'list') {
    const { values } = parse(rest, json)
    const keys = await withAdmin(config, (admin) => admin.store.listApiKeys())
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    const rows = keys.map((k) => ({
      id: k.id,
      name: k.name,
      scopes: k.scopes,
      created_at: iso(k.createdAt),
      expires_at: iso(k.expiresAt),
      last_used_at: iso(k.lastUsedAt),
      revoked_at: iso(k.revokedAt),
    }))
    const text = rows
      .map(
        (k) =>
          `${k.id}  ${k.name}  [${k.scopes.join(' ')}]  ${k.revoked_at ? 'revoked' : `last used ${k.last_used_at ?? 'never'}`}`,
      )
      .join('\n')
    print(io, values.json, { api_keys: rows }, text || 'no API keys')
    return
  }
  if (action === 'revoke') {
    const { values, positionals } = parse(rest, json, 1)
    const id = required(positionals[0], 'the API key id')
    const revoked = await withAdmin(config, (admin) => revokeApiKey(admin, id))
    if (!revoked) throw new UsageError(`no active API key with id "${id}"`)
    print(io, values.json, { id, revoked: true }, `revoked API key ${id}`)
    return
  }
  if (action !== 'create')
    throw new UsageError(`unknown command "api-keys ${action ?? ''}": use create, list or revoke`)
  const { values } = parse(rest, {
    name: { type: 'string' },
    scopes: { type: 'string' },
    'expires-in': { type: 'string' },
    ...json,
  })
  const name = required(values.name, '--name')
  const scopes = spaceList(required(values.scopes, '--scopes'))
  const expiresIn = values['expires-in']
  if (expiresIn !== undefined && !/^\d+$/.test(expiresIn))
    throw new UsageError('--expires-in must be a whole number of seconds')
  const { key, record } = await withAdmin(config, (admin) =>
    createApiKey(admin, {
      name,
      scopes,
      expiresAt: expiresIn === undefined ? null : admin.now() + Number(expiresIn) * 1000,
    }),
  )
  print(
    io,
    values.json,
    {
      id: record.id,
      name: record.name,
      scopes: record.scopes,
      key,
      expires_at: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    },
    `${key}\n(shown once: store it now; Tessera keeps only a keyed hash)`,
  )
}

/**
 * The default delay between publishing a new key and signing with it: longer than the JWKS
 * response may be cached (60 s) plus a guard's refetch cool-down (30 s).
 */
export const KEY_ACTIVATION_DELAY = 120

export async function keysCommand(config: Config, args: string[], io: Io): Promise<void> {
  const [action, ...rest] = args
  if (action !== 'rotate') throw new UsageError(`unknown command "keys ${action ?? ''}": use "keys rotate"`)
  const { values } = parse(rest, { 'activate-in': { type: 'string' }, now: { type: 'boolean' }, ...json })
  const delay = values['activate-in']
  if (delay !== undefined && !/^\d+$/.test(delay))
    throw new UsageError('--activate-in must be a whole number of seconds')
  if (delay !== undefined && values.now) throw new UsageError('give --activate-in or --now, not both')
  const activateIn = values.now ? 0 : delay === undefined ? KEY_ACTIVATION_DELAY : Number(delay)
  const { kid, alg, activatesAt } = await withAdmin(config, (admin) =>
    rotateSigningKey(admin, { activateIn }),
  )
  const when = new Date(activatesAt).toISOString()
  print(
    io,
    values.json,
    { kid, alg, activates_at: when },
    `new signing key ${kid} (${alg}), published now, signing from ${when}; the previous key stays in the JWKS until its tokens expire`,
  )
}
