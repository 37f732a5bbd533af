import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAIN } from './support/processes.js'
import { freePort, SECRET_KEY } from './support/server.js'

/**
 * SPEC §5: no token, no password, no secret ever in a log line. A real `tessera serve` at the
 * most verbose level, its own log output read from stdout, exactly as an operator would ship it.
 */
describe('log lines of tessera serve', () => {
  let dir: string
  let child: ChildProcess
  let output = ''
  let base: string
  let serviceSecret: string

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run "npx tsc -b" before the tests')
    dir = mkdtempSync(join(tmpdir(), 'tessera-logs-'))
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    child = spawn(process.execPath, [MAIN, 'serve', '--demo', '--port', String(port)], {
      env: {
        ...process.env,
        TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`,
        TESSERA_SECRET_KEY: SECRET_KEY,
        TESSERA_DATA_DIR: dir,
        TESSERA_LOG_LEVEL: 'trace',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const deadline = Date.now() + 20_000
    while (!/curl -s -u demo-service:(\S+)/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    serviceSecret = /curl -s -u demo-service:(\S+)/.exec(output)![1]!
  })

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    })
  const logLinesSoFar = () => output.split('\n').filter((line) => line.startsWith('{'))
  const serviceBasic = () => `Basic ${Buffer.from(`demo-service:${serviceSecret}`).toString('base64')}`

  it('carry no password, token or client secret, whatever the requests', async () => {
    const secrets: string[] = ['demo-password', 'a-wrong-password-7', serviceSecret]
    const signIn = await post('/oauth/token', {
      grant_type: 'password',
      client_id: 'demo-app',
      username: 'demo',
      password: 'demo-password',
    })
    expect(signIn.status).toBe(200)
    const tokens = (await signIn.json()) as { access_token: string; refresh_token: string }
    secrets.push(tokens.access_token, tokens.refresh_token)

    const refreshed = await post('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: 'demo-app',
      refresh_token: tokens.refresh_token,
    })
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string }
    secrets.push(next.access_token, next.refresh_token)

    await post('/oauth/token', {
      grant_type: 'password',
      client_id: 'demo-app',
      username: 'demo',
      password: 'a-wrong-password-7',
    })
    const machine = await post(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: serviceBasic() },
    )
    const machineToken = ((await machine.json()) as { access_token: string }).access_token
    secrets.push(machineToken)
    await post('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'demo-service',
      client_secret: serviceSecret,
    })
    await post('/oauth/introspect', { token: next.access_token }, { authorization: serviceBasic() })
    await fetch(`${base}/me`, { headers: { authorization: `Bearer ${next.access_token}` } })
    await fetch(`${base}/sessions`, {
      headers: { authorization: `Bearer ${next.access_token}`, cookie: 'x=1' },
    })
    await post('/oauth/revoke', { token: next.refresh_token, client_id: 'demo-app' })
    // a JSON body with a password in it, refused before it is parsed as a form
    await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"password","password":"demo-password"',
    })
    await new Promise((resolve) => setTimeout(resolve, 300))

    const logLines = logLinesSoFar()
    expect(logLines.length).toBeGreaterThan(20)
    expect(logLines.some((line) => line.includes('"/oauth/token"'))).toBe(true)
    for (const secret of secrets) {
      const leaks = logLines.filter((line) => line.includes(secret))
      expect(leaks, `a log line contains ${secret.slice(0, 12)}…`).toEqual([])
    }
    const tokenBodies = secrets.filter((s) => s.startsWith('tsr_')).map((s) => s.slice(4))
    for (const body of tokenBodies) expect(logLines.filter((line) => line.includes(body))).toEqual([])
  })
  // BUG (src/app.ts, logger options): Fastify's "incoming request" line logs req.url with its
  // query string, so a token a client puts in the URL (RFC 6750 §2.3; Tessera does not accept
  // it, but clients send it) lands in the log. A `req` serializer that drops or redacts the
  // query would close it.
  it('carry no token that a client put in the query string', async () => {
    const machine = await post(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: serviceBasic() },
    )
    const token = ((await machine.json()) as { access_token: string }).access_token
    const response = await fetch(`${base}/me?access_token=${encodeURIComponent(token)}`)
    expect(response.status).toBe(401)
    expect(await response.text()).not.toContain(token)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(logLinesSoFar().filter((line) => line.includes(token))).toEqual([])
  })
})
