import { type BasicCredentials, createBasicAuth, createVerifier, hashBasicCredential } from '@tessera/guard'
import { createHonoGuard, type GuardEnv } from '@tessera/guard/hono'
import { Hono } from 'hono'
import { listenFetch } from '../support/listen.js'

export interface BillingApiOptions {
  issuer: string
  audience?: string
  /** Service name → scrypt hash from `hashBasicCredential`; never the plain secret. */
  credentials: BasicCredentials
}

/**
 * A billing service. Internal callers (a cron job, another service on the private network)
 * use HTTP Basic with a per-service secret; people and apps use Tessera access tokens.
 */
export function buildBillingApi(options: BillingApiOptions): Hono<GuardEnv> {
  const basic = createBasicAuth({ realm: 'billing-internal', credentials: options.credentials })
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience ?? options.issuer })
  const guard = createHonoGuard({ verifier, realm: 'billing' })
  const charges: { id: number; amount: number; by: string }[] = []

  const app = new Hono<GuardEnv>()
  app.get('/health', (c) => c.json({ ok: true }))

  app.post('/internal/charges', guard.requireBasic(basic), async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { amount?: unknown }
    const charge = { id: charges.length + 1, amount: Number(body.amount ?? 0), by: c.get('auth')?.sub ?? '' }
    charges.push(charge)
    return c.json(charge, 201)
  })

  app.get('/charges', guard.requireScope('read'), (c) => c.json({ viewer: c.get('auth')?.sub, charges }))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  // A real deployment keeps only the hash (in config or a secrets store), made once with hashBasicCredential.
  const secret = process.env.BILLING_CRON_SECRET ?? 'cron-secret-change-me'
  const api = buildBillingApi({
    issuer,
    audience: process.env.TESSERA_AUDIENCE ?? issuer,
    credentials: { cron: await hashBasicCredential(secret) },
  })
  const { url } = await listenFetch(api.fetch, Number(process.env.PORT ?? 3003))
  console.log(`03-basic-auth listening on ${url} (Basic user "cron"; bearer tokens from ${issuer})`)
}
