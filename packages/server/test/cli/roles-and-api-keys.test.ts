import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { introspect } from '../../src/endpoints/introspect.js'
import { login, refresh, SECRET_KEY, startTestServer } from '../support/server.js'

function cli(env: Record<string, string>) {
  return async (...argv: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const status = await runCli(argv, env, {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
      readStdin: async () => '',
    })
    return { status, out: out.join('\n'), err }
  }
}

describe('tessera users roles', () => {
  it('changes roles without revoking anything; the next refresh carries the new roles', async () => {
    const server = await startTestServer()
    try {
      const run = cli({
        TESSERA_DATABASE_URL: server.config.databaseUrl,
        TESSERA_SECRET_KEY: SECRET_KEY,
        TESSERA_DATA_DIR: server.config.dataDir,
      })
      const tokens = await login(server)
      const changed = await run('users', 'roles', 'alice', '--roles', 'admin,editor', '--json')
      expect(changed.status).toBe(0)
      expect(JSON.parse(changed.out)).toMatchObject({ username: 'alice', roles: ['admin', 'editor'] })
      const me = await server.app.inject({
        url: '/me',
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })
      expect(me.statusCode).toBe(200)
      const next = await refresh(server, tokens.refresh_token)
      expect(next.status).toBe(200)
      const claims = JSON.parse(
        Buffer.from((next.body.access_token as string).split('.')[1]!, 'base64url').toString(),
      )
      expect(claims.roles).toEqual(['admin', 'editor'])
      const bad = await run('users', 'roles', 'nobody', '--roles', 'x')
      expect(bad.status).toBe(2)
      expect(bad.err).toHaveLength(1)
    } finally {
      await server.close()
    }
  })
})

describe('tessera api-keys', () => {
  let dir: string
  let run: ReturnType<typeof cli>
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'))
    run = cli({
      TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`,
      TESSERA_SECRET_KEY: SECRET_KEY,
      TESSERA_DATA_DIR: dir,
    })
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('lists keys without their secrets and revokes one by id', async () => {
    const created = JSON.parse(
      (await run('api-keys', 'create', '--name', 'ci', '--scopes', 'read', '--json')).out,
    )
    expect(created.key).toMatch(/^tsk_/)
    const listed = await run('api-keys', 'list', '--json')
    expect(listed.status).toBe(0)
    expect(listed.out).not.toContain(created.key)
    const [entry] = JSON.parse(listed.out).api_keys
    expect(entry).toMatchObject({
      id: created.id,
      name: 'ci',
      scopes: ['read'],
      revoked_at: null,
      last_used_at: null,
    })
    expect((await run('api-keys', 'revoke', created.id, '--json')).status).toBe(0)
    const again = await run('api-keys', 'revoke', created.id)
    expect(again.status).toBe(2)
    expect(again.err[0]).toMatch(/^tessera: no active API key/)
  })

  it('a revoked key is inactive at introspection', async () => {
    const server = await startTestServer()
    try {
      const serverRun = cli({
        TESSERA_DATABASE_URL: server.config.databaseUrl,
        TESSERA_SECRET_KEY: SECRET_KEY,
        TESSERA_DATA_DIR: server.config.dataDir,
      })
      const created = JSON.parse(
        (await serverRun('api-keys', 'create', '--name', 'ci', '--scopes', 'read', '--json')).out,
      )
      expect((await introspect(server.app.tessera, created.key)).active).toBe(true)
      await serverRun('api-keys', 'revoke', created.id)
      expect(await introspect(server.app.tessera, created.key)).toEqual({ active: false })
    } finally {
      await server.close()
    }
  })
})
