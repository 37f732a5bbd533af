import { createVerifier } from '@tessera/guard'
import { createExpressGuard } from '@tessera/guard/express'
import express, { type Express } from 'express'
import { listenNode } from '../support/listen.js'

export interface ReportsApiOptions {
  issuer: string
  audience?: string
  /** This API's own confidential client at Tessera: introspection is client-authenticated. */
  clientId: string
  clientSecret: string
  /** Clock in milliseconds, for tests that move time; default `Date.now`. */
  now?: () => number
}

/**
 * A reports API for scripts and other machines. Callers send an API key made with
 * `tessera api-keys create`; the guard asks Tessera about it (RFC 7662 introspection) and
 * checks the key's scopes like a token's.
 */
export function buildReportsApi(options: ReportsApiOptions): Express {
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience ?? options.issuer,
    // An answer about a key is reused for 30 s: a revoked key keeps working for at most that long.
    introspection: { clientId: options.clientId, clientSecret: options.clientSecret, apiKeyCacheTtl: 30 },
    ...(options.now ? { now: options.now } : {}),
  })
  const guard = createExpressGuard({ verifier, realm: 'reports' })
  const reports = [{ id: 1, title: 'Monthly active users', value: 1234 }]

  const app = express()
  app.use(express.json())

  app.get('/reports', guard.requireAuth({ apiKeys: true, scopes: ['reports:read'] }), (req, res) => {
    res.json({ caller: req.auth?.sub, via: req.auth?.type, reports })
  })

  app.post('/reports', guard.requireAuth({ apiKeys: true, scopes: ['reports:write'] }), (req, res) => {
    const report = { id: reports.length + 1, title: String(req.body?.title ?? 'untitled'), value: 0 }
    reports.push(report)
    res.status(201).json(report)
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const clientSecret = process.env.TESSERA_CLIENT_SECRET
  if (!clientSecret) {
    console.error('Set TESSERA_CLIENT_SECRET to the secret `npm start` printed for demo-service.')
    process.exit(2)
  }
  const api = buildReportsApi({
    issuer,
    audience: process.env.TESSERA_AUDIENCE ?? issuer,
    clientId: process.env.TESSERA_CLIENT_ID ?? 'demo-service',
    clientSecret,
  })
  const { url } = await listenNode(api, Number(process.env.PORT ?? 3002))
  console.log(`02-api-keys listening on ${url} (keys checked by ${issuer})`)
}
