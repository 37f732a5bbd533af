import { connect } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, DIALECTS } from '../support/dialects.js'
import { spawnServe } from '../support/processes.js'
import {
  basic,
  freePort,
  login,
  PASSWORD,
  SVC_SECRET,
  startTestServer,
  type TestServer,
} from '../support/server.js'
import { proofRuns, proofSeed } from './proof-settings.js'
import { killHard, seed, serveEnv } from './serve-cluster.js'

const ENDPOINTS = [
  ['POST', '/oauth/token'],
  ['POST', '/oauth/revoke'],
  ['POST', '/oauth/introspect'],
  ['GET', '/me'],
  ['GET', '/sessions'],
  ['DELETE', '/sessions/'],
  ['POST', '/logout'],
  ['POST', '/logout/all'],
  ['GET', '/.well-known/oauth-authorization-server'],
  ['GET', '/.well-known/jwks.json'],
  ['GET', '/.well-known/'],
] as const

const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) })
const b64 = (text: string) => Buffer.from(text).toString('base64url')
const NONE_JWT = `${b64('{"alg":"none","typ":"at+jwt"}')}.${b64('{"sub":"x","exp":9999999999}')}.`

interface Secrets {
  accessToken: string
  refreshToken: string
}

interface Fuzzed {
  method: string
  url: string
  headers: Record<string, string>
  payload: string | Buffer | undefined
}

function requests(secrets: Secrets): fc.Arbitrary<Fuzzed> {
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '%',
      '%zz',
      '%E0%A4%A',
      '%00',
      '%%%',
      '../..',
      '{"a":1}',
      `tsr_${'A'.repeat(70)}`,
      NONE_JWT,
    ),
    fc.constantFrom(PASSWORD, SVC_SECRET, secrets.accessToken, secrets.refreshToken, 'alice', 'web', 'svc'),
    fc.constantFrom(
      'password',
      'refresh_token',
      'client_credentials',
      'authorization_code',
      'read write',
      'S256',
    ),
    fc.integer().map(String),
    fc.nat(20_000).map((n) => 'x'.repeat(n)),
  )
  const name = fc.oneof(
    fc.constantFrom(
      'grant_type',
      'client_id',
      'client_secret',
      'username',
      'password',
      'refresh_token',
      'token',
      'token_type_hint',
      'scope',
      'code',
      'redirect_uri',
      'code_verifier',
    ),
    fc.string({ maxLength: 12 }),
  )
  const params = fc.array(fc.tuple(name, value), { maxLength: 8 })
  const raw = (pairs: [string, string][]) => pairs.map(([k, v]) => `${k}=${v}`).join('&')
  const body = fc.oneof(
    params.map((p) => new URLSearchParams(p).toString()),
    params.map(raw),
    fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
    params.map((p) => JSON.stringify(Object.fromEntries(p))),
    fc.constantFrom(`a=${'x'.repeat(70_000)}`, `token=${'%41'.repeat(6000)}`, '&&&&=&=', '=', ''),
    fc.constant(undefined),
  )
  const contentType = fc.constantFrom(
    undefined,
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'APPLICATION/X-WWW-FORM-URLENCODED',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    ';;;',
    '',
  )
  const authorization = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      `Bearer ${secrets.accessToken}`,
      `bearer   ${secrets.accessToken}`,
      `Bearer ${secrets.refreshToken}`,
      `Bearer ${NONE_JWT}`,
      `Bearer ${'a'.repeat(12_000)}`,
      'Bearer',
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from(':').toString('base64')}`,
      `Basic ${Buffer.from('%zz:%').toString('base64')}`,
      basic('svc', SVC_SECRET),
      basic('svc', 'wrong'),
      basic('web', ''),
      'Negotiate abc',
    ),
    ascii.map((s) => `Bearer ${s}`),
    ascii.map((s) => `Basic ${s}`),
    ascii,
  )
  const path = fc.tuple(
    fc.constantFrom(...ENDPOINTS),
    fc.constantFrom('', '/', '//', '/x', '%', '%2e%2e/', ';a=b', '/%zz', '%E0%A4%A', `/${'s'.repeat(300)}`),
    fc.oneof(
      fc.constant(''),
      params.map((p) => `?${raw(p)}`),
    ),
  )
  const extraHeaders = fc.dictionary(fc.stringMatching(/^x-[a-z-]{1,12}$/), ascii, { maxKeys: 3 })
  return fc
    .record({
      path,
      sameMethod: fc.boolean(),
      method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'),
      body,
      contentType,
      authorization,
      extraHeaders,
    })
    .map(({ path: [[endpointMethod, endpoint], suffix, query], ...r }) => {
      const headers: Record<string, string> = { ...r.extraHeaders }
      if (r.contentType !== undefined) headers['content-type'] = r.contentType
      if (r.authorization !== undefined) headers.authorization = r.authorization
      const method = r.sameMethod ? endpointMethod : r.method
      return {
        method,
        url: `${endpoint}${suffix}${query}`,
        headers,
        payload: method === 'GET' ? undefined : r.body,
      }
    })
}

const STACK = /\bat [^\n]*:\d+:\d+|node_modules|\.ts:\d+|Error: /

function checkResponse(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  secrets: string[],
): void {
  expect(response.statusCode).toBeLessThan(500)
  expect([200, 204].includes(response.statusCode) || response.statusCode >= 400).toBe(true)
  expect(response.body).not.toMatch(STACK)
  for (const secret of secrets) expect(response.body.includes(secret), 'a secret echoed back').toBe(false)
  if (response.statusCode >= 400) {
    expect(String(response.headers['content-type'])).toMatch(/^application\/json/)
    expect(typeof (JSON.parse(response.body) as { error?: unknown }).error).toBe('string')
  }
}

/** One raw HTTP exchange over a socket: writes `chunks` with `gapMs` between them, reads until close. */
function rawExchange(port: number, chunks: string[], options: { gapMs?: number; endEarly?: boolean } = {}) {
  return new Promise<string>((resolve) => {
    let received = ''
    const socket = connect(port, '127.0.0.1')
    socket.setTimeout(8000, () => socket.destroy())
    socket.on('data', (d) => {
      received += d.toString()
    })
    socket.on('close', () => resolve(received))
    socket.on('error', () => {})
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return
        socket.write(chunk)
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs))
      }
      if (options.endEarly) socket.destroy()
      else socket.end()
    })
  })
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1])
const bodyOf = (raw: string) => raw.slice(raw.indexOf('\r\n\r\n') + 4)

for (const dialect of DIALECTS) {
  describe(`hostile input (${dialect})`, () => {
    let server: TestServer
    let secrets: Secrets
    let tried = 0
    beforeAll(async () => {
      server = await startTestServer({ dialect, listen: true })
      const tokens = await login(server)
      secrets = { accessToken: tokens.access_token, refreshToken: tokens.refresh_token }
    })
    afterAll(async () => {
      console.info(`fuzz (${dialect}): ${tried} inputs`)
      await server?.close()
    })

    const healthy = async () => {
      const health = await fetch(`${server.url}/healthz`)
      expect(health.status).toBe(200)
    }

    it('answers every malformed request with a 4xx JSON error, never a 5xx, a stack or a secret', async () => {
      const leaks = [PASSWORD, SVC_SECRET, secrets.accessToken, secrets.refreshToken]
      await fc.assert(
        fc.asyncProperty(requests(secrets), async (request) => {
          tried += 1
          const response = await server.app.inject({
            method: request.method as 'GET',
            url: request.url,
            headers: request.headers,
            ...(request.payload !== undefined ? { payload: request.payload } : {}),
          })
          checkResponse(response, leaks)
        }),
        { numRuns: proofRuns(10) * 100, seed: proofSeed(`fuzz (${dialect})`) },
      )
      await healthy()
    }, 120_000)

    it('answers garbage, oversized and truncated requests on a real socket and stays healthy', async () => {
      const { port } = new URL(server.url)
      const garbage = await rawExchange(Number(port), ['GARBAGE \u0001\u0002\r\n\r\n'])
      expect(statusOf(garbage)).toBe(400)
      const longUrl = await rawExchange(Number(port), [
        `GET /me?${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      ])
      expect([414, 431]).toContain(statusOf(longUrl))
      for (const raw of [garbage, longUrl]) {
        expect(typeof (JSON.parse(bodyOf(raw)) as { error?: unknown }).error).toBe('string')
      }
      const head =
        'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n'
      const truncated = await rawExchange(
        Number(port),
        [`${head}Content-Length: 200\r\n\r\ngrant_type=password&user`],
        { endEarly: true },
      )
      expect(truncated).toBe('')
      await rawExchange(Number(port), ['POST /oauth/token HTTP/1.1\r\nHo'], { endEarly: true })
      tried += 4
      await healthy()
    })

    it('finishes a slowly sent body and keeps serving others meanwhile', async () => {
      const { port } = new URL(server.url)
      const body = `grant_type=password&client_id=web&username=nobody&password=${'p'.repeat(10)}`
      const head = `POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`
      const chunks = [head, ...body.match(/.{1,8}/g)!]
      const slow = rawExchange(Number(port), chunks, { gapMs: 150 })
      // Slow clients holding connections open do not starve the others.
      const stalled = Array.from({ length: 50 }, () =>
        rawExchange(Number(port), ['POST /oauth/token HTTP/1.1\r\nHost: x\r\n'], { gapMs: 1500 }),
      )
      await new Promise((r) => setTimeout(r, 300))
      await healthy()
      const answer = await slow
      expect(statusOf(answer)).toBe(400)
      expect(JSON.parse(bodyOf(answer))).toMatchObject({ error: 'invalid_grant' })
      await Promise.all(stalled)
      tried += 51
      await healthy()
    }, 20_000)
  })
}

describe('malformed URLs', () => {
  // Found by this suite: Fastify's own FST_ERR_BAD_URL answer quoted the whole URL, so a token
  // sent as `?access_token=` (RFC 6750 §2.3) came back in the response (SPEC §5).
  it('are refused as invalid_request without echoing the query', async () => {
    const server = await startTestServer({})
    try {
      const { access_token } = await login(server)
      const response = await server.app.inject({ url: `/me%zz?access_token=${access_token}` })
      expect(response.statusCode).toBe(400)
      expect(response.body).not.toContain(access_token)
      expect(response.json()).toMatchObject({ error: 'invalid_request' })
    } finally {
      await server.close()
    }
  })
})

describe('tessera serve shutting down', () => {
  // Found by this suite: SIGTERM drained with app.close(), which waited for every open
  // connection, so one that never sent a request held shutdown until Node's headers timeout.
  it('exits promptly on SIGTERM while a client holds a connection without a request', async () => {
    const database = await createTestDatabase('sqlite')
    const env = serveEnv(database)
    await seed(env)
    const port = await freePort()
    const server = await spawnServe(port, env)
    const idle = connect(port, '127.0.0.1')
    idle.on('error', () => {})
    await new Promise((r) => idle.once('connect', r))
    try {
      const exited = await Promise.race([
        server.stop().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ])
      expect(exited).toBe(true)
    } finally {
      idle.destroy()
      await killHard(server)
      await database.drop()
    }
  }, 20_000)
})
