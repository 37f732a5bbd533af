import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/admin.js'
import { runCli } from '../../src/cli/run.js'
import { introspect } from '../../src/endpoints/introspect.js'
import {
  login,
  PASSWORD,
  postForm,
  refresh,
  SECRET_KEY,
  startTestServer,
  type TestServer,
} from '../support/server.js'

async function run(server: TestServer, ...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const status = await runCli(
    argv,
    {
      TESSERA_DATABASE_URL: server.config.databaseUrl,
      TESSERA_SECRET_KEY: SECRET_KEY,
      TESSERA_DATA_DIR: server.config.dataDir,
    },
    {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
      readStdin: async () => 'a brand new passphrase\n',
    },
  )
  return { status, out: out.join('\n'), err }
}

describe('changing a password and ending every session', () => {
  let server: TestServer
  beforeEach(async () => {
    server = await startTestServer()
    await createClient(server.admin, {
      id: 'kiosk',
      isPublic: true,
      grantTypes: ['password'],
      scopes: ['read'],
      redirectUris: [],
    })
  })
  afterEach(async () => {
    await server.close()
  })

  const kioskToken = async () =>
    (
      await postForm(server.app, '/oauth/token', {
        grant_type: 'password',
        client_id: 'kiosk',
        username: 'alice',
        password: PASSWORD,
      })
    ).body.access_token as string
  const me = (token: string) =>
    server.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })

  it('tessera users password sets a new password and revokes every session of the user', async () => {
    const session = await login(server)
    const changed = await run(server, 'users', 'password', 'alice', '--password-stdin', '--json')
    expect(changed.status).toBe(0)
    expect(JSON.parse(changed.out)).toMatchObject({ username: 'alice', sessions_revoked: 1 })
    expect((await refresh(server, session.refresh_token)).body.error).toBe('invalid_grant')
    const old = await postForm(server.app, '/oauth/token', {
      grant_type: 'password',
      client_id: 'web',
      username: 'alice',
      password: PASSWORD,
    })
    expect(old.body.error).toBe('invalid_grant')
    const fresh = await postForm(server.app, '/oauth/token', {
      grant_type: 'password',
      client_id: 'web',
      username: 'alice',
      password: 'a brand new passphrase',
    })
    expect(fresh.status).toBe(200)
    const bad = await run(server, 'users', 'password', 'alice', '--password', 'short')
    expect(bad.status).toBe(2)
    expect(bad.err).toEqual(['tessera: the password must be at least 8 characters'])
  })

  it('access tokens bound to no session die with a password change, as session tokens do', async () => {
    const token = await kioskToken()
    expect((await me(token)).statusCode).toBe(200)
    server.clock.advance(1)
    await run(server, 'users', 'password', 'alice', '--password-stdin')
    expect((await me(token)).statusCode).toBe(401)
    expect(await introspect(server.app.tessera, token)).toEqual({ active: false })
  })

  it('sign out everywhere also ends the user’s session-less access tokens', async () => {
    const kiosk = await kioskToken()
    const session = await login(server)
    server.clock.advance(1)
    const out = await server.app.inject({
      method: 'POST',
      url: '/logout/all',
      headers: { authorization: `Bearer ${session.access_token}` },
    })
    expect(out.statusCode).toBe(200)
    expect((await me(kiosk)).statusCode).toBe(401)
    server.clock.advance(1)
    expect((await me(await kioskToken())).statusCode).toBe(200)
  })

  it('tessera with no command is one line on stderr and exit status 2', async () => {
    const result = await run(server)
    expect(result.status).toBe(2)
    expect(result.err).toEqual(['tessera: a command is required; run "tessera help"'])
    expect(result.out).toBe('')
  })
})
