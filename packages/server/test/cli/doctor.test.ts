import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../support/dialects.js'
import { runTessera, type ServeProcess, spawnServe } from '../support/processes.js'
import { freePort, SECRET_KEY } from '../support/server.js'

describe('tessera doctor', () => {
  let database: TestDatabase
  let server: ServeProcess
  let env: Record<string, string>
  beforeAll(async () => {
    database = await createTestDatabase('sqlite')
    const port = await freePort()
    env = {
      TESSERA_DATABASE_URL: database.url,
      TESSERA_DATA_DIR: database.dataDir,
      TESSERA_SECRET_KEY: SECRET_KEY,
      TESSERA_REFRESH_REUSE_GRACE: '1',
      TESSERA_ISSUER: `http://127.0.0.1:${port}`,
      TESSERA_LOG_LEVEL: 'warn',
    }
    server = await spawnServe(port, env)
  }, 30_000)
  afterAll(async () => {
    await server?.stop()
    await database?.drop()
  })

  it('passes every check against a healthy deployment and says so in one JSON object', async () => {
    const result = await runTessera(['doctor', '--url', server.url, '--json'], env)
    const report = JSON.parse(result.stdout) as { passed: boolean; checks: { name: string; ok: boolean }[] }
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['discovery metadata names this issuer', true],
      ['sign-in issues an access token that verifies against the JWKS', true],
      ['20 parallel refreshes of one token produce exactly one successor', true],
      ['a retry within the grace window returns the current token', true],
      ['a replay after the grace window revokes the whole session', true],
      ['revocation and introspection agree', true],
    ])
    expect(report.passed).toBe(true)
    expect(result.status).toBe(0)
  })

  it('fails, with exit status 1, against a server of another issuer', async () => {
    const result = await runTessera(['doctor', '--url', server.url, '--quick'], {
      ...env,
      TESSERA_ISSUER: 'http://elsewhere.test',
    })
    expect(result.status).toBe(1)
    expect(result.stdout).toMatch(/FAIL {2}discovery metadata names this issuer/)
  })
})
