import { createVerifier } from '@tessera/guard'
import { tesseraGuard } from '@tessera/guard/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { listenFastify } from '../support/listen.js'

export interface ProfileApiOptions {
  /** Tessera's issuer URL; tokens must carry exactly this `iss`. */
  issuer: string
  /** Who the tokens must be for (`aud`); Tessera's default audience is its issuer. */
  audience?: string
}

/**
 * A tiny API with one public and one authenticated route. The API never sees a password:
 * Tessera checks who you are and hands out a signed access token; the API checks the token.
 */
export async function buildProfileApi(options: ProfileApiOptions): Promise<FastifyInstance> {
  const app = Fastify()
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience ?? options.issuer })
  await app.register(tesseraGuard, { verifier, realm: 'profile' })

  app.get('/hello', { config: { auth: false } }, async () => ({ message: 'hello, whoever you are' }))

  app.get('/me', { config: { auth: true } }, async (request) => {
    const auth = request.auth!
    return {
      message: `hello, ${auth.sub}`,
      user: auth.sub,
      client: auth.clientId,
      roles: auth.roles,
      scopes: auth.scopes,
    }
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const api = await buildProfileApi({ issuer, audience: process.env.TESSERA_AUDIENCE ?? issuer })
  const { url } = await listenFastify(api, Number(process.env.PORT ?? 3001))
  console.log(`01-authentication-basics listening on ${url} (tokens from ${issuer})`)
}
