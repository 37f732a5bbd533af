import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { runCli } from '../src/cli/run.js'
import { loadConfig } from '../src/config.js'
import { MAIN, runTessera } from './support/processes.js'
import { freePort, SECRET_KEY } from './support/server.js'

interface Run {
  status: number
  out: string[]
  err: string[]
}

let dir: string
let env: Record<string, string>

async function tessera(
  argv: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const status = await runCli(
    argv,
    { ...env, ...options.env },
    {
      stdout: (line) => out.push(line),
      stderr: (line) => err.push(line),
      readStdin: async () => options.stdin ?? '',
    },
  )
  return { status, out, err }
}

function expectUsageError(run: Run, pattern?: RegExp) {
  expect(run.status).toBe(2)
  expect(run.out).toEqual([])
  expect(run.err).toHaveLength(1)
  expect(run.err[0]).toMatch(/^tessera: \S/)
  expect(run.err[0]).not.toContain('\n')
  if (pattern) expect(run.err[0]).toMatch(pattern)
}

function databaseRows(sql: string): Record<string, unknown>[] {
  const db = new Database(join(dir, 't.db'), { readonly: true })
  try {
    return db.prepare(sql).all() as Record<string, unknown>[]
  } finally {
    db.close()
  }
}

/** The server a deployment would run on the same database, for checking what the CLI did. */
async function serveInProcess(): Promise<FastifyInstance> {
  return buildApp(loadConfig({ ...env, TESSERA_LOG_LEVEL: 'silent' }), { logger: false })
}

function form(app: FastifyInstance, url: string, fields: Record<string, string>) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  })
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'))
  env = {
    TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`,
    TESSERA_SECRET_KEY: SECRET_KEY,
    TESSERA_DATA_DIR: dir,
  }
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('tessera migrate', () => {
  it('creates the schema of an empty database and says so', async () => {
    const run = await tessera(['migrate'])
    expect(run).toEqual({ status: 0, out: ['database is up to date'], err: [] })
    const db = new Database(join(dir, 't.db'), { readonly: true })
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string
    }[]
    db.close()
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['users', 'clients', 'sessions', 'signing_keys']),
    )
    expect((await tessera(['migrate'])).status).toBe(0)
  })
})

describe('tessera users', () => {
  it('users create --json prints one JSON object', async () => {
    const run = await tessera([
      'users',
      'create',
      '--username',
      'carol',
      '--password',
      'carols-password',
      '--roles',
      'admin,user',
      '--json',
    ])
    expect(run.status).toBe(0)
    expect(run.err).toEqual([])
    expect(run.out).toHaveLength(1)
    expect(JSON.parse(run.out[0]!)).toEqual({
      id: expect.any(String),
      username: 'carol',
      roles: ['admin', 'user'],
    })
    expect(run.out[0]).not.toContain('carols-password')
  })

  it('users create --password-stdin reads the password from standard input, and it signs in', async () => {
    const created = await tessera(['users', 'create', '--username', 'dave', '--password-stdin'], {
      stdin: 'daves stdin password\n',
    })
    expect(created.status).toBe(0)
    expect(created.out).toEqual([expect.stringMatching(/^created user dave \(/)])
    expect(
      (await tessera(['clients', 'create', '--id', 'cli-app', '--public', '--grant-types', 'password']))
        .status,
    ).toBe(0)
    const app = await serveInProcess()
    try {
      const signIn = (password: string) =>
        form(app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'cli-app',
          username: 'dave',
          password,
        })
      expect((await signIn('daves stdin password')).statusCode).toBe(200)
      expect((await signIn('daves stdin password\n')).statusCode).toBe(400)
    } finally {
      await app.close()
    }
  })

  it('a duplicate username exits 2 with one line', async () => {
    const args = ['users', 'create', '--username', 'erin', '--password', 'erins-password']
    expect((await tessera(args)).status).toBe(0)
    expectUsageError(await tessera(args), /taken/)
  })

  it('an invalid username or a short password exits 2 with one line', async () => {
    expectUsageError(
      await tessera(['users', 'create', '--username', 'bad name!', '--password', 'long-enough']),
      /username/,
    )
    expectUsageError(
      await tessera(['users', 'create', '--username', 'frank', '--password', 'short']),
      /password/,
    )
  })

  it('users disable revokes every session of the user', async () => {
    await tessera(['users', 'create', '--username', 'grace', '--password', 'graces-password'])
    await tessera([
      'clients',
      'create',
      '--id',
      'cli-app',
      '--public',
      '--grant-types',
      'password,refresh_token',
    ])
    const app = await serveInProcess()
    try {
      const signIn = () =>
        form(app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'cli-app',
          username: 'grace',
          password: 'graces-password',
        })
      const first = (await signIn()).json()
      await signIn()
      const run = await tessera(['users', 'disable', 'grace', '--json'])
      expect(run.status).toBe(0)
      expect(JSON.parse(run.out[0]!)).toMatchObject({
        username: 'grace',
        disabled: true,
        sessions_revoked: 2,
      })
      const refreshed = await form(app, '/oauth/token', {
        grant_type: 'refresh_token',
        client_id: 'cli-app',
        refresh_token: first.refresh_token,
      })
      expect(refreshed.statusCode).toBe(400)
      expect(refreshed.json().error).toBe('invalid_grant')
      const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${first.access_token}` } })
      expect(me.statusCode).toBe(401)
      expect((await signIn()).statusCode).toBe(400)
    } finally {
      await app.close()
    }
    expectUsageError(await tessera(['users', 'disable', 'nobody']), /nobody/)
  })
})

describe('tessera clients', () => {
  it('creates a public client', async () => {
    const run = await tessera([
      'clients',
      'create',
      '--id',
      'spa',
      '--public',
      '--grant-types',
      'authorization_code,refresh_token',
      '--scopes',
      'read write',
      '--redirect-uris',
      'http://127.0.0.1:5173/callback',
      '--json',
    ])
    expect(run.status).toBe(0)
    expect(run.out).toHaveLength(1)
    expect(JSON.parse(run.out[0]!)).toEqual({
      id: 'spa',
      public: true,
      grant_types: ['authorization_code', 'refresh_token'],
      scopes: ['read', 'write'],
      redirect_uris: ['http://127.0.0.1:5173/callback'],
    })
  })

  it('creates a confidential client whose secret authenticates it', async () => {
    const run = await tessera([
      'clients',
      'create',
      '--id',
      'worker',
      '--secret',
      'worker-secret-0123456789',
      '--grant-types',
      'client_credentials',
      '--scopes',
      'jobs',
    ])
    expect(run).toEqual({ status: 0, out: ['created confidential client worker'], err: [] })
    const app = await serveInProcess()
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('worker:worker-secret-0123456789').toString('base64')}`,
        },
        payload: 'grant_type=client_credentials',
      })
      expect(response.statusCode).toBe(200)
      expect(response.json().scope).toBe('jobs')
    } finally {
      await app.close()
    }
  })

  it('an unknown grant type, or both --secret and --public, exits 2 with one line', async () => {
    expectUsageError(
      await tessera(['clients', 'create', '--id', 'c', '--public', '--grant-types', 'teleport']),
      /grant type "teleport"/,
    )
    expectUsageError(
      await tessera([
        'clients',
        'create',
        '--id',
        'c',
        '--public',
        '--secret',
        'x'.repeat(20),
        '--grant-types',
        'password',
      ]),
    )
    expectUsageError(
      await tessera(['clients', 'create', '--id', 'c', '--public', '--grant-types', 'client_credentials']),
      /public client/,
    )
  })
})

describe('tessera api-keys create', () => {
  it('prints the key once, with its tsk_ prefix; the database holds only a keyed hash', async () => {
    const run = await tessera(['api-keys', 'create', '--name', 'ci', '--scopes', 'read deploy'])
    expect(run.status).toBe(0)
    const text = run.out.join('\n')
    const key = /tsk_[A-Za-z0-9_-]{43}/.exec(text)?.[0]
    expect(key).toBeDefined()
    expect(text.split(key!)).toHaveLength(2)
    const db = new Database(join(dir, 't.db'), { readonly: true })
    const rows = db.prepare('SELECT * FROM api_keys').all() as Record<string, unknown>[]
    db.close()
    expect(rows).toHaveLength(1)
    const stored = JSON.stringify(rows)
    expect(stored).not.toContain(key!)
    expect(stored).not.toContain(key!.slice(4))
    expect(rows[0]).toMatchObject({ name: 'ci', key_hash: expect.any(String) })
    const audit = databaseRows("SELECT type, detail FROM audit_events WHERE type = 'api_key_created'")
    expect(audit).toHaveLength(1)
    expect(JSON.stringify(audit)).not.toContain(key!.slice(4))
  })

  it('--json prints one object with the key and its scopes', async () => {
    const run = await tessera(['api-keys', 'create', '--name', 'ci', '--scopes', 'read', '--json'])
    expect(run.out).toHaveLength(1)
    expect(JSON.parse(run.out[0]!)).toEqual({
      id: expect.any(String),
      name: 'ci',
      scopes: ['read'],
      key: expect.stringMatching(/^tsk_/),
      expires_at: null,
    })
  })
})

describe('tessera keys rotate', () => {
  it('adds a new signing key; the previous one stays published', async () => {
    const first = await tessera(['keys', 'rotate', '--json'])
    const second = await tessera(['keys', 'rotate', '--json'])
    expect(first.status).toBe(0)
    expect(second.status).toBe(0)
    const a = JSON.parse(first.out[0]!)
    const b = JSON.parse(second.out[0]!)
    expect(a).toEqual({
      kid: expect.any(String),
      alg: loadConfig({}).signingAlg,
      activates_at: expect.any(String),
    })
    expect(b.kid).not.toBe(a.kid)
    const db = new Database(join(dir, 't.db'), { readonly: true })
    const rows = db.prepare('SELECT kid, retired_at, publish_until FROM signing_keys').all() as {
      kid: string
      retired_at: number | null
      publish_until: number | null
    }[]
    db.close()
    const byKid = Object.fromEntries(rows.map((r) => [r.kid, r]))
    expect(byKid[b.kid]?.retired_at).toBeNull()
    expect(byKid[a.kid]?.retired_at).not.toBeNull()
    expect(byKid[a.kid]!.publish_until! - byKid[a.kid]!.retired_at!).toBe((900 + 60) * 1000)
  })
})

describe('bad arguments and configuration', () => {
  const cases: [string, string[]][] = [
    ['an unknown command', ['frobnicate']],
    ['an unknown subcommand', ['users', 'promote', 'x']],
    ['an unknown flag', ['users', 'create', '--username', 'x', '--password', 'long-enough', '--colour']],
    ['a missing --username', ['users', 'create', '--password', 'long-enough']],
    [
      'both --password and --password-stdin',
      ['users', 'create', '--username', 'x', '--password', 'p', '--password-stdin'],
    ],
    ['neither --password nor --password-stdin', ['users', 'create', '--username', 'x']],
    ['a flag without its value', ['users', 'create', '--username']],
    ['an extra positional argument', ['users', 'disable', 'a', 'b']],
    ['a missing --grant-types', ['clients', 'create', '--id', 'c', '--public']],
    ['a missing --scopes', ['api-keys', 'create', '--name', 'n']],
    ['a bad --port', ['serve', '--port', '99999']],
  ]
  for (const [what, argv] of cases) {
    it(`${what} exits 2 with exactly one stderr line`, async () => {
      expectUsageError(await tessera(argv))
    })
  }

  it('a bad environment value exits 2 with one line naming the variable', async () => {
    const run = await tessera(['migrate'], { env: { TESSERA_ACCESS_TOKEN_TTL: 'abc' } })
    expectUsageError(run, /TESSERA_ACCESS_TOKEN_TTL/)
    const key = await tessera(['users', 'create', '--username', 'x', '--password', 'long-enough'], {
      env: { TESSERA_SECRET_KEY: 'too-short' },
    })
    expectUsageError(key, /TESSERA_SECRET_KEY/)
    expect(key.err[0]).not.toContain('too-short')
  })

  it('an unreachable database exits 1 with one line that does not repeat its password', async () => {
    const run = await tessera(['migrate'], {
      env: { TESSERA_DATABASE_URL: 'postgres://tessera:hunter2secret@127.0.0.1:1/tessera' },
    })
    expect(run.status).toBe(1)
    expect(run.out).toEqual([])
    expect(run.err).toHaveLength(1)
    expect(run.err[0]).toMatch(/^tessera: \S/)
    expect(run.err[0]).not.toContain('hunter2secret')
  })

  it('help prints the usage and exits 0', async () => {
    const run = await tessera(['help'])
    expect(run.status).toBe(0)
    expect(run.out.join('\n')).toMatch(/tessera serve .*tessera migrate/s)
  })
})

describe('the tessera binary', () => {
  beforeEach(() => {
    if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run "npx tsc -b" before the tests')
  })

  it('exits 2 with a single stderr line on bad arguments', async () => {
    const run = await runTessera(['users', 'create', '--password', 'long-enough'], env)
    expect(run.status).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr.trimEnd().split('\n')).toEqual(['tessera: --username is required'])
  })

  it('serve --demo prints the banner with /docs and a login that works, and stops cleanly on SIGTERM', async () => {
    const port = await freePort()
    const child = spawn(process.execPath, [MAIN, 'serve', '--demo', '--port', String(port)], {
      env: { ...process.env, ...env, TESSERA_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    )
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner within 20 s: ${stdout}${stderr}`)), 20_000)
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString()
          if (/Client credentials:\n.*\n/.test(stdout)) {
            clearTimeout(timer)
            resolve()
          }
        })
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stdout}${stderr}`)))
      })
      const base = `http://127.0.0.1:${port}`
      expect(stdout).toContain(`Tessera is listening on ${base}`)
      expect(stdout).toContain(`${base}/docs`)

      // Do exactly what the printed curl line does.
      const curl = stdout
        .split('\n')
        .find((line) => /^\s*curl -s \S+\/oauth\/token -d grant_type=password/.test(line))
      expect(curl).toBeDefined()
      const words = curl!.trim().split(/\s+/)
      const url = words[2]!
      const fields = words.flatMap((word, i) => (words[i - 1] === '-d' ? [word] : []))
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields.join('&'),
      })
      expect(response.status).toBe(200)
      const tokens = (await response.json()) as Record<string, unknown>
      expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) })
      expect(tokens.refresh_token).toMatch(/^tsr_/)
      expect((await fetch(`${base}/docs`)).status).toBe(200)
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM')
    }
    expect(await exited).toEqual({ code: 0, signal: null })
  })
})
