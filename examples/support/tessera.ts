import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AdminContext,
  buildApp,
  type Config,
  createClient,
  createUser,
  loadConfig,
  openAdmin,
} from '@tessera/server'
import type { FastifyInstance } from 'fastify'

/** The same names `npm start` seeds with `--demo`, so READMEs and tests speak of one setup. */
export const DEMO = {
  username: 'demo',
  password: 'demo-password',
  publicClient: 'demo-app',
  serviceClient: 'demo-service',
  serviceSecret: 'demo-service-secret-for-tests',
  redirectUri: 'http://127.0.0.1:5173/callback',
} as const

/** A clock for the server under test: real time until a test moves it. */
export class TestClock {
  #offset = 0
  readonly now = (): number => Date.now() + this.#offset
  advance(seconds: number): void {
    this.#offset += seconds * 1000
  }
}

export interface Tessera {
  /** The issuer, e.g. `http://127.0.0.1:43817`. */
  url: string
  app: FastifyInstance
  config: Config
  admin: AdminContext
  clock: TestClock
  close(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/**
 * A real Tessera on loopback over a fresh SQLite database, seeded like `npm start --demo`:
 * user `demo` (role `user`), public client `demo-app`, confidential client `demo-service`.
 */
export async function startTessera(options: { config?: Partial<Config> } = {}): Promise<Tessera> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-example-'))
  const port = await freePort()
  const clock = new TestClock()
  const config = loadConfig(
    {},
    {
      databaseUrl: `sqlite:${join(dataDir, 'tessera.db')}`,
      dataDir,
      secretKey: 'a'.repeat(64),
      port,
      issuer: `http://127.0.0.1:${port}`,
      logLevel: 'silent',
      ...options.config,
    },
  )
  const app = await buildApp(config, { logger: false, now: clock.now })
  const admin = await openAdmin(config, app.log, app.tessera.store)
  admin.now = clock.now
  await createUser(admin, { username: DEMO.username, password: DEMO.password, roles: ['user'] })
  await createClient(admin, {
    id: DEMO.publicClient,
    isPublic: true,
    grantTypes: ['password', 'refresh_token', 'authorization_code'],
    scopes: ['read', 'write'],
    redirectUris: [DEMO.redirectUri],
  })
  await createClient(admin, {
    id: DEMO.serviceClient,
    secret: DEMO.serviceSecret,
    isPublic: false,
    grantTypes: ['client_credentials'],
    scopes: ['read', 'write'],
    redirectUris: [],
  })
  await app.listen({ host: '127.0.0.1', port })
  return {
    url: config.issuer,
    app,
    config,
    admin,
    clock,
    async close() {
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export interface TokenAnswer {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** POSTs a form to Tessera's token endpoint over HTTP, optionally with client Basic auth. */
export async function requestToken(
  issuer: string,
  form: Record<string, string>,
  client?: { id: string; secret: string },
): Promise<TokenAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (client) headers.authorization = basicAuthorization(client.id, client.secret)
  const response = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
  })
  return { status: response.status, headers: response.headers, body: await response.json() }
}

/** Signs a user in with the password grant of `demo-app` and returns the token response. */
export async function login(
  issuer: string,
  form: Record<string, string> = {},
): Promise<{ access_token: string; refresh_token: string; scope: string; expires_in: number }> {
  const answer = await requestToken(issuer, {
    grant_type: 'password',
    client_id: DEMO.publicClient,
    username: DEMO.username,
    password: DEMO.password,
    ...form,
  })
  if (answer.status !== 200) throw new Error(`login failed: ${JSON.stringify(answer.body)}`)
  return answer.body as { access_token: string; refresh_token: string; scope: string; expires_in: number }
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined. */
export function basicAuthorization(id: string, secret: string): string {
  const encode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1)
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`
}
