import { createVerifier, type GuardError } from '@tessera/guard'
import { tesseraGuard } from '@tessera/guard/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { listenFastify } from '../support/listen.js'

export interface AccountApiOptions {
  issuer: string
  audience?: string
  now?: () => number
  /**
   * This API's confidential client at Tessera. When given, every token is also checked by
   * introspection (cached 5 s), so a revoked token stops working at once instead of at `exp`.
   */
  introspection?: { clientId: string; clientSecret: string }
  /** Sees every refusal with its precise reason, which never goes to the caller; default: logged. */
  onRefusal?: (refusal: { code: string; reason: string; route: string }) => void
}

/**
 * An account API secured by default: every route needs a valid bearer token unless it says
 * `auth: false`. Refusals follow RFC 6750; why a token was refused goes to the logs only.
 */
export async function buildAccountApi(options: AccountApiOptions): Promise<FastifyInstance> {
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience ?? options.issuer,
    ...(options.now ? { now: options.now } : {}),
    ...(options.introspection
      ? { introspection: options.introspection, mode: 'introspection' as const }
      : {}),
  })
  const app = Fastify({ logger: options.onRefusal ? false : { level: 'info' } })
  await app.register(tesseraGuard, {
    verifier,
    realm: 'account',
    defaultAuth: true,
    onFailure: (error: GuardError, request) => {
      const refusal = { code: error.code, reason: error.reason, route: request.url }
      if (options.onRefusal) options.onRefusal(refusal)
      else request.log.info(refusal, 'request refused')
    },
  })

  app.get('/healthz', { config: { auth: false } }, async () => ({ ok: true }))
  app.get('/account', async (request) => ({ user: request.auth?.sub, scopes: request.auth?.scopes }))
  app.put('/account/email', { config: { auth: { scopes: ['write'] } } }, async (request) => ({
    updated: true,
    user: request.auth?.sub,
  }))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const clientSecret = process.env.TESSERA_CLIENT_SECRET
  const api = await buildAccountApi({
    issuer,
    audience: process.env.TESSERA_AUDIENCE ?? issuer,
    ...(clientSecret
      ? { introspection: { clientId: process.env.TESSERA_CLIENT_ID ?? 'demo-service', clientSecret } }
      : {}),
  })
  const { url } = await listenFastify(api, Number(process.env.PORT ?? 3007))
  console.log(`07-securing-endpoints listening on ${url} (tokens from ${issuer})`)
}
