import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp, createUser, loadConfig, openAdmin, createClient as registerClient } from '@tessera/server'

export const PASSWORD = 'correct horse battery staple'

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A real Tessera server on loopback, a fresh SQLite file, and a clock the test can move. */
export async function startServer(overrides: { accessTokenTtl?: number; refreshReuseGrace?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-client-'))
  const port = await freePort()
  const clock = { offset: 0 }
  const config = loadConfig(
    {},
    {
      databaseUrl: `sqlite:${join(dir, 'tessera.db')}`,
      dataDir: dir,
      secretKey: 'c'.repeat(64),
      port,
      issuer: `http://127.0.0.1:${port}`,
      logLevel: 'silent',
      accessTokenTtl: overrides.accessTokenTtl ?? 60,
      refreshReuseGrace: overrides.refreshReuseGrace ?? 10,
    },
  )
  const app = await buildApp(config, { logger: false, now: () => Date.now() + clock.offset })
  const admin = await openAdmin(config, app.log, app.tessera.store)
  await createUser(admin, { username: 'alice', password: PASSWORD, roles: ['user'] })
  await registerClient(admin, {
    id: 'web',
    isPublic: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read', 'write'],
    redirectUris: [],
  })
  await registerClient(admin, {
    id: 'svc',
    secret: 'a-service-secret-of-24ch',
    isPublic: false,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read'],
    redirectUris: [],
  })
  await app.listen({ host: '127.0.0.1', port })
  return {
    url: `http://127.0.0.1:${port}`,
    /** Moves the server's clock forward (seconds). */
    advance: (seconds: number) => {
      clock.offset += seconds * 1000
    },
    async close() {
      await app.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Wraps fetch to count (and optionally tamper with) token-endpoint calls by grant type. */
export function countingFetch(
  intercept?: (grantType: string, call: () => Promise<Response>) => Promise<Response>,
) {
  const counts: Record<string, number> = {}
  /** Every refresh token presented, in order. */
  const presented: string[] = []
  const wrapped: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url.endsWith('/oauth/token') && init?.body) {
      const form = new URLSearchParams(String(init.body))
      const grant = form.get('grant_type') ?? '?'
      counts[grant] = (counts[grant] ?? 0) + 1
      if (grant === 'refresh_token') presented.push(form.get('refresh_token') ?? '(cookie)')
      if (intercept) return intercept(grant, () => fetch(input, init))
    }
    return fetch(input, init)
  }
  return { fetch: wrapped, counts, presented }
}

export interface Recorded {
  method: string
  url: string
  headers: import('node:http').IncomingHttpHeaders
  body: string
}

/**
 * A stand-in server on loopback, for what a real Tessera does not do (yet, or ever): metadata
 * naming another issuer, a token endpoint that does not rotate. Records every request.
 */
export async function startFake(
  handle: (
    request: Recorded,
    base: string,
  ) => { status?: number; headers?: Record<string, string>; json?: unknown },
) {
  const { createServer: createHttpServer } = await import('node:http')
  const requests: Recorded[] = []
  let base = ''
  const server = createHttpServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      requests.push(recorded)
      const answer = handle(recorded, base)
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers })
      res.end(answer.json === undefined ? '' : JSON.stringify(answer.json))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  return {
    url: base,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Metadata for a fake issuer at `base`. */
export const metadata = (base: string) => ({
  issuer: base,
  token_endpoint: `${base}/oauth/token`,
  revocation_endpoint: `${base}/oauth/revoke`,
})
