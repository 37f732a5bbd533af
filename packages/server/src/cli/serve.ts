import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { AdminInputError, createClient, createUser, openAdmin } from '../admin.js'
import { buildApp } from '../app.js'
import type { Config } from '../config.js'
import { loadConfig } from '../config.js'
import type { Io } from './admin-commands.js'
import { parse, UsageError } from './usage.js'

export const DEMO = {
  username: 'demo',
  password: 'demo-password',
  publicClient: 'demo-app',
  serviceClient: 'demo-service',
} as const

/**
 * Seeds the demo user and clients when they are missing. The service client's secret is derived
 * from the deployment's secret key, so it can be printed again on every start without storing it.
 */
async function seedDemo(app: FastifyInstance): Promise<string> {
  const { config, store } = app.tessera
  const admin = await openAdmin(config, app.log, store)
  const serviceSecret = createHmac('sha256', admin.secret.derive('client-secret-mac'))
    .update('demo-service')
    .digest('base64url')
  if (!(await store.findUserByUsername(DEMO.username))) {
    await createUser(admin, { username: DEMO.username, password: DEMO.password, roles: ['user'] })
  }
  if (!(await store.findClient(DEMO.publicClient))) {
    await createClient(admin, {
      id: DEMO.publicClient,
      isPublic: true,
      grantTypes: ['password', 'refresh_token', 'authorization_code'],
      scopes: ['read', 'write'],
      redirectUris: [`${config.issuer}/callback`, 'http://127.0.0.1:5173/callback'],
    })
  }
  if (!(await store.findClient(DEMO.serviceClient))) {
    await createClient(admin, {
      id: DEMO.serviceClient,
      secret: serviceSecret,
      isPublic: false,
      grantTypes: ['client_credentials'],
      scopes: ['read', 'write'],
      redirectUris: [],
    })
  }
  return serviceSecret
}

function banner(config: Config, serviceSecret: string | undefined): string {
  const base = config.issuer
  const lines = [
    '',
    `Tessera is listening on ${base}`,
    `  API docs   ${base}/docs`,
    `  metadata   ${base}/.well-known/oauth-authorization-server`,
  ]
  if (serviceSecret !== undefined) {
    lines.push(
      '',
      `Demo user "${DEMO.username}" / "${DEMO.password}", public client "${DEMO.publicClient}". Sign in:`,
      `  curl -s ${base}/oauth/token -d grant_type=password -d client_id=${DEMO.publicClient} -d username=${DEMO.username} -d password=${DEMO.password}`,
      'Sign in and refresh (keeps the refresh token in $RT):',
      `  RT=$(curl -s ${base}/oauth/token -d grant_type=password -d client_id=${DEMO.publicClient} -d username=${DEMO.username} -d password=${DEMO.password} | node -pe 'JSON.parse(require("fs").readFileSync(0)).refresh_token')`,
      `  curl -s ${base}/oauth/token -d grant_type=refresh_token -d client_id=${DEMO.publicClient} --data-urlencode refresh_token=$RT`,
      'Client credentials:',
      `  curl -s -u ${DEMO.serviceClient}:${serviceSecret} ${base}/oauth/token -d grant_type=client_credentials`,
    )
  }
  return lines.join('\n')
}

export async function serveCommand(env: NodeJS.ProcessEnv, args: string[], io: Io): Promise<void> {
  const { values } = parse(args, {
    host: { type: 'string' },
    port: { type: 'string' },
    demo: { type: 'boolean' },
  })
  if (values.port !== undefined && (!/^\d+$/.test(values.port) || Number(values.port) > 65535)) {
    throw new UsageError(`--port must be a port number, got "${values.port}"`)
  }
  const config = loadConfig(env, {
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
  })
  const app = await buildApp(config)
  let serviceSecret: string | undefined
  if (values.demo) {
    try {
      serviceSecret = await seedDemo(app)
    } catch (error) {
      if (error instanceof AdminInputError) throw new UsageError(error.message)
      throw error
    }
  }
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down: draining in-flight requests')
    // A connection that never sends a request (a load balancer's pre-connect, a stalled client)
    // would hold the drain until Node's headers timeout; in-flight requests get two seconds.
    setTimeout(() => app.server.closeAllConnections(), 2000).unref()
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  await app.listen({ host: config.host, port: config.port })
  io.stdout(banner(config, serviceSecret))
}
