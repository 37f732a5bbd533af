import { createVerifier } from '@tessera/guard'
import { tesseraGuard } from '@tessera/guard/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { decodeProtectedHeader } from 'jose'
import { listenFastify } from '../support/listen.js'

export interface TokenInspectorOptions {
  issuer: string
  audience?: string
  /** Clock in milliseconds, for tests that move time; default `Date.now`. */
  now?: () => number
}

/**
 * An API that shows what is inside the JWT access token you send it — but only after the
 * guard has verified its signature against Tessera's JWKS and checked `iss`, `aud` and `exp`.
 */
export async function buildTokenInspector(options: TokenInspectorOptions): Promise<FastifyInstance> {
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience ?? options.issuer,
    ...(options.now ? { now: options.now } : {}),
  })
  const app = Fastify()
  await app.register(tesseraGuard, { verifier, realm: 'inspector' })

  app.get('/token', { config: { auth: true } }, async (request) => {
    const token = (request.headers.authorization ?? '').slice('Bearer '.length)
    const claims = request.auth!.claims as { exp: number; iat: number }
    return {
      header: decodeProtectedHeader(token),
      claims,
      expiresIn: claims.exp - Math.floor((options.now ?? Date.now)() / 1000),
    }
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const api = await buildTokenInspector({ issuer, audience: process.env.TESSERA_AUDIENCE ?? issuer })
  const { url } = await listenFastify(api, Number(process.env.PORT ?? 3004))
  console.log(`04-jwt-tokens listening on ${url} (tokens from ${issuer})`)
}
