import { afterEach, describe, expect, it } from 'vitest'
import { createTestDatabase, scaleOutAvailable } from '../support/dialects.js'
import { login, postForm, refresh, startTestServer, type TestServer } from '../support/server.js'
import { TcpProxy } from '../support/tcp-proxy.js'

const available = scaleOutAvailable()

describe.skipIf(!available)('dependency faults', () => {
  let server: TestServer | undefined
  let proxy: TcpProxy | undefined
  afterEach(async () => {
    await proxy?.cut()
    await server?.close()
    server = undefined
    proxy = undefined
  })

  it('PostgreSQL down: token endpoints answer 503, /readyz says why, and service resumes by itself', async () => {
    // The server's own database, reached only through a proxy the test can cut.
    const real = await createTestDatabase('postgres')
    const target = new URL(real.url)
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432))
    const proxied = new URL(real.url)
    proxied.port = String(await proxy.start())
    server = await startTestServer({ config: { databaseUrl: proxied.toString() } })
    const closeServer = server.close.bind(server)
    server.close = async () => {
      await closeServer()
      await real.drop()
    }
    const { refresh_token } = await login(server)

    await proxy.cut()
    const during = await refresh(server, refresh_token)
    expect(during.status).toBe(503)
    expect(during.body.error).toBe('temporarily_unavailable')
    expect(during.headers['retry-after']).toBe('1')
    const password = await postForm(server.app, '/oauth/token', {
      grant_type: 'password',
      client_id: 'web',
      username: 'alice',
      password: 'x',
    })
    expect(password.status).toBe(503)
    const ready = await server.app.inject({ url: '/readyz' })
    expect(ready.statusCode).toBe(503)
    expect(ready.json().checks.database).toMatch(/^unavailable/)

    await proxy.restore()
    // The token whose refresh failed during the outage was not rotated: it still works.
    let after = await refresh(server, refresh_token)
    for (let i = 0; i < 20 && after.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100))
      after = await refresh(server, refresh_token)
    }
    expect(after.status).toBe(200)
    expect((await server.app.inject({ url: '/readyz' })).statusCode).toBe(200)
  })

  it('Redis down: logins and refreshes keep working with per-instance limits, a warning and a metric', async () => {
    server = await startTestServer({ config: { redisUrl: 'redis://127.0.0.1:1' } })
    const { refresh_token } = await login(server)
    expect((await refresh(server, refresh_token)).status).toBe(200)
    for (let i = 0; i < 10; i++) {
      await postForm(server.app, '/oauth/token', {
        grant_type: 'password',
        client_id: 'web',
        username: 'alice',
        password: `bad-${i}`,
      })
    }
    const limited = await postForm(server.app, '/oauth/token', {
      grant_type: 'password',
      client_id: 'web',
      username: 'alice',
      password: 'bad',
    })
    expect(limited.status).toBe(429)
    const ready = await server.app.inject({ url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().status).toBe('degraded')
    expect(ready.json().checks.redis).toMatch(/^unavailable/)
    const metrics = await server.app.inject({ url: '/metrics' })
    expect(metrics.body).toMatch(/tessera_dependency_up\{dependency="redis"\} 0/)
    expect(metrics.body).toMatch(/tessera_redis_fallback_total [1-9]/)
  })
})
