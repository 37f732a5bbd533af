import { createServer } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { type AdminContext, createClient, createUser, openAdmin } from '../../src/admin.js'
import { type BuildOptions, buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config.js'
import type { Client, User } from '../../src/store/store.js'
import { createTestDatabase, type Dialect, type TestDatabase } from './dialects.js'

export const SECRET_KEY = 'a'.repeat(64)

/** A controllable clock: starts at the real time, moves only when told. */
export class TestClock {
  constructor(public ms = Date.now()) {}
  readonly now = () => this.ms
  advance(seconds: number): void {
    this.ms += seconds * 1000
  }
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

export interface TestServer {
  app: FastifyInstance
  config: Config
  clock: TestClock
  admin: AdminContext
  database: TestDatabase
  /** Base URL when started with `listen: true`. */
  url: string
  user: User
  /** Public client `web` (password, refresh_token); confidential `svc` (client_credentials, password, refresh_token). */
  publicClient: Client
  confidentialClient: Client
  close(): Promise<void>
}

export const PASSWORD = 'correct horse battery staple'
export const SVC_SECRET = 'svc-secret-0123456789'

export interface StartOptions {
  dialect?: Dialect
  config?: Partial<Config>
  listen?: boolean
  build?: BuildOptions
}

/** A real Tessera server on a fresh database, seeded with one user and two clients. */
export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase(options.dialect ?? 'sqlite')
  const port = options.listen ? await freePort() : 8080
  const clock = new TestClock()
  const config = loadConfig(
    {},
    {
      databaseUrl: database.url,
      dataDir: database.dataDir,
      secretKey: SECRET_KEY,
      port,
      issuer: `http://127.0.0.1:${port}`,
      logLevel: 'silent',
      ...options.config,
    },
  )
  const app = await buildApp(config, { logger: false, now: clock.now, ...options.build })
  const admin = await openAdmin(config, app.log, app.tessera.store)
  admin.now = clock.now
  const user = await createUser(admin, { username: 'alice', password: PASSWORD, roles: ['user'] })
  const publicClient = await createClient(admin, {
    id: 'web',
    isPublic: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read', 'write', 'admin'],
    redirectUris: [],
  })
  const confidentialClient = await createClient(admin, {
    id: 'svc',
    secret: SVC_SECRET,
    isPublic: false,
    grantTypes: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['read', 'write'],
    redirectUris: [],
  })
  if (options.listen) await app.listen({ host: '127.0.0.1', port })
  return {
    app,
    config,
    clock,
    admin,
    database,
    url: `http://127.0.0.1:${port}`,
    user,
    publicClient,
    confidentialClient,
    async close() {
      await app.close()
      await database.drop()
    },
  }
}

/** POSTs a form to the server with `inject()` and returns status, headers and parsed JSON. */
export async function postForm(
  app: FastifyInstance,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(form).toString(),
  })
  return {
    status: response.statusCode,
    headers: response.headers,
    body: response.json() as Record<string, unknown>,
  }
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

/** Signs `alice` in through the password grant of the public client `web`. */
export async function login(server: TestServer, form: Record<string, string> = {}) {
  const result = await postForm(server.app, '/oauth/token', {
    grant_type: 'password',
    client_id: 'web',
    username: 'alice',
    password: PASSWORD,
    ...form,
  })
  if (result.status !== 200) throw new Error(`login failed: ${JSON.stringify(result.body)}`)
  return result.body as { access_token: string; refresh_token: string; scope: string; expires_in: number }
}

export async function refresh(server: TestServer, refreshToken: string, form: Record<string, string> = {}) {
  return postForm(server.app, '/oauth/token', {
    grant_type: 'refresh_token',
    client_id: 'web',
    refresh_token: refreshToken,
    ...form,
  })
}
