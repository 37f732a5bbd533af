import { createVerifier } from '@tessera/guard'
import { createExpressGuard } from '@tessera/guard/express'
import express, { type Express } from 'express'
import { listenNode } from '../support/listen.js'

export interface OrdersApiOptions {
  issuer: string
  audience?: string
}

/**
 * An orders API that is an OAuth 2 resource server: it does not care which grant produced the
 * access token, only that Tessera signed it for this audience with the `read` scope. A token
 * with a session (`sid`) acts for a user; one without is a client acting for itself.
 */
export function buildOrdersApi(options: OrdersApiOptions): Express {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience ?? options.issuer })
  const guard = createExpressGuard({ verifier, realm: 'orders' })
  const app = express()

  app.get('/orders', guard.requireScope('read'), (req, res) => {
    const auth = req.auth!
    res.json({
      actor: auth.sid === undefined ? 'service' : 'user',
      subject: auth.sub,
      client: auth.clientId,
      orders: [{ id: 'A-1001', total: 42 }],
    })
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const api = buildOrdersApi({ issuer, audience: process.env.TESSERA_AUDIENCE ?? issuer })
  const { url } = await listenNode(api, Number(process.env.PORT ?? 3005))
  console.log(`05-oauth2 listening on ${url} (tokens from ${issuer})`)
}
