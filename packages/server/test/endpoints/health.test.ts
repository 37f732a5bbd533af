import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../support/dialects.js'
import {
  basic,
  login,
  PASSWORD,
  postForm,
  refresh,
  SVC_SECRET,
  startTestServer,
  type TestServer,
} from '../support/server.js'

const SPEC_PATHS = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/jwks.json',
  '/oauth/token',
  '/oauth/revoke',
  '/oauth/introspect',
  '/oauth/authorize',
  '/me',
  '/sessions',
  '/sessions/{id}',
  '/logout',
  '/logout/all',
  '/healthz',
  '/readyz',
  '/metrics',
]

for (const dialect of DIALECTS) {
  describe(`health and readiness (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    it('/healthz is 200', async () => {
      const response = await server.app.inject({ url: '/healthz' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ status: 'ok' })
    })

    it('/readyz is 200 with checks.database ok', async () => {
      const response = await server.app.inject({ url: '/readyz' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.json()).toEqual({ status: 'ready', checks: { database: 'ok' } })
    })

    it('with the database gone the token endpoint fails closed with 503 temporarily_unavailable', async () => {
      const tokens = await login(server)
      await server.app.tessera.store.close()
      const attempts = [
        await refresh(server, tokens.refresh_token),
        await postForm(server.app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'web',
          username: 'alice',
          password: PASSWORD,
        }),
        await postForm(server.app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'web',
          username: 'alice',
          password: 'a-wrong-password',
        }),
        // a client never seen before cannot be looked up either: 503, not invalid_client
        await postForm(server.app, '/oauth/token', { grant_type: 'client_credentials', client_id: 'ghost' }),
        await postForm(
          server.app,
          '/oauth/introspect',
          { token: tokens.access_token },
          { authorization: basic('svc', SVC_SECRET) },
        ),
        await postForm(server.app, '/oauth/revoke', { token: tokens.refresh_token, client_id: 'web' }),
      ]
      for (const response of attempts) {
        expect(response.status).toBe(503)
        expect(response.body).toEqual({
          error: 'temporarily_unavailable',
          error_description: expect.any(String),
        })
        expect(response.headers['retry-after']).toBe('1')
        expect(response.headers['cache-control']).toBe('no-store')
        expect(JSON.stringify(response.body)).not.toMatch(/sqlite|postgres|pool|connection|\.ts/i)
      }
      const me = await server.app.inject({
        url: '/me',
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })
      expect(me.statusCode).toBe(503)
      expect(me.json().error).toBe('temporarily_unavailable')
    })

    it('with the database gone /readyz is 503 and says which check failed', async () => {
      await server.app.tessera.store.close()
      const response = await server.app.inject({ url: '/readyz' })
      expect(response.statusCode).toBe(503)
      const body = response.json()
      expect(body.status).toBe('unavailable')
      expect(body.checks.database).toMatch(/^unavailable/)
      expect((await server.app.inject({ url: '/healthz' })).statusCode).toBe(200)
    })
  })
}

describe('operations endpoints', () => {
  let server: TestServer
  beforeEach(async () => {
    server = await startTestServer()
  })
  afterEach(async () => {
    await server.close()
  })

  it('/metrics is Prometheus text with the token counters', async () => {
    await login(server)
    await postForm(
      server.app,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc', SVC_SECRET) },
    )
    const response = await server.app.inject({ url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = response.body
    for (const name of [
      'tessera_tokens_issued_total',
      'tessera_refresh_total',
      'tessera_refresh_reuse_detected_total',
      'tessera_rate_limited_total',
      'tessera_sessions_revoked_total',
      'tessera_http_request_duration_seconds',
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|histogram)$`, 'm'))
    }
    expect(text).toMatch(/^tessera_tokens_issued_total\{grant_type="password"\} 1$/m)
    expect(text).toMatch(/^tessera_tokens_issued_total\{grant_type="client_credentials"\} 1$/m)
    expect(text).toMatch(/^tessera_http_request_duration_seconds_count\{.*route="\/oauth\/token".*\} \d+$/m)
    expect(text).not.toMatch(/tsr_|correct horse/)
  })

  it('/openapi.json is an OpenAPI 3.1 document listing every path of the contract', async () => {
    const response = await server.app.inject({ url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    const doc = response.json()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.title).toBe('Tessera')
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(SPEC_PATHS))
    expect(doc.paths['/oauth/token'].post.requestBody.content).toHaveProperty(
      'application/x-www-form-urlencoded',
    )
    expect(doc.paths['/sessions/{id}']).toHaveProperty('delete')
    expect(doc.components.securitySchemes).toHaveProperty('bearerAuth')
  })

  it('/docs serves the API docs UI', async () => {
    let response = await server.app.inject({ url: '/docs' })
    if (response.statusCode >= 300 && response.statusCode < 400) {
      response = await server.app.inject({
        url: new URL(response.headers.location as string, 'http://x').pathname,
      })
    }
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/html/)
    expect(response.body).toMatch(/swagger/i)
  })

  it('an unknown route is a 404 JSON error', async () => {
    const response = await server.app.inject({ url: '/no/such/route?secret=1' })
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.json()).toEqual({
      error: 'not_found',
      error_description: 'no route for GET /no/such/route',
    })
  })
})
