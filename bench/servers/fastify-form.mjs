// Baseline: the least a Fastify form POST can cost — parse the form, answer a small JSON body.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body)))
})
app.post('/oauth/token', async (request, reply) => {
  reply.header('cache-control', 'no-store')
  return { access_token: 'x', token_type: 'Bearer', expires_in: 900, scope: request.body.scope ?? '' }
})
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 8124) })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
