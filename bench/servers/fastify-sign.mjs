// Baseline: a bare Fastify form POST that signs one ES256 access token per request with
// node:crypto (the same claims Tessera issues) — the ceiling for any endpoint that mints a JWT.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import Fastify from 'fastify'

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'bench' })).toString(
  'base64url',
)
const app = Fastify({ logger: false })
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body)))
})
app.post('/oauth/token', async (_request, reply) => {
  const iat = Math.floor(Date.now() / 1000)
  const claims = {
    iss: 'http://127.0.0.1',
    sub: 'user-1',
    aud: 'http://127.0.0.1',
    exp: iat + 900,
    iat,
    jti: randomUUID(),
    client_id: 'web',
    scope: 'read write',
  }
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
  reply.header('cache-control', 'no-store')
  return {
    access_token: `${input}.${signature.toString('base64url')}`,
    token_type: 'Bearer',
    expires_in: 900,
    scope: 'read write',
  }
})
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 8124) })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
