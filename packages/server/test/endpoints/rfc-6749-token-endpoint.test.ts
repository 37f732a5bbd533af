import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/admin.js'
import { DIALECTS } from '../support/dialects.js'
import { basic, PASSWORD, postForm, SVC_SECRET, startTestServer, type TestServer } from '../support/server.js'

// RFC 6749 §2.3.1 / Appendix B: application/x-www-form-urlencoded, so a space becomes "+".
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2)
const formBasic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`

const CLIENT_CREDENTIALS = { grant_type: 'client_credentials' }

function expectNoInternals(body: Record<string, unknown>) {
  const text = JSON.stringify(body)
  expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts\b|\.js\b|stack|SQLITE|syntax error/i)
  expect(body).not.toHaveProperty('stack')
  expect(body).not.toHaveProperty('statusCode')
}

// Parsing and validation happen before any storage is touched: one dialect is enough.
describe('token endpoint request format, RFC 6749 §3.2', () => {
  let server: TestServer
  beforeEach(async () => {
    server = await startTestServer()
  })
  afterEach(async () => {
    await server.close()
  })

  it('a JSON body is refused with 400 invalid_request', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grant_type: 'client_credentials', client_id: 'svc' }),
    })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ error: 'invalid_request' })
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('a request without a body is refused with 400 invalid_request', async () => {
    const response = await server.app.inject({ method: 'POST', url: '/oauth/token' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ error: 'invalid_request' })
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('an empty form body is refused with 400 invalid_request', async () => {
    const response = await postForm(server.app, '/oauth/token', {})
    expect(response.status).toBe(400)
    expect(response.body.error).toBe('invalid_request')
  })

  it('a form body with a charset parameter is accepted', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
        authorization: basic('svc', SVC_SECRET),
      },
      payload: 'grant_type=client_credentials',
    })
    expect(response.statusCode).toBe(200)
  })

  it('the token endpoint answers POST only', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/oauth/token?grant_type=client_credentials',
    })
    expect(response.statusCode).toBe(404)
    expect(response.json().error).toBe('not_found')
  })

  it('a repeated parameter is refused with 400 invalid_request', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=password&client_id=web&username=alice&password=x&grant_type=client_credentials',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ error: 'invalid_request' })
    expect(response.json().error_description).toContain('grant_type')
  })

  it('a repeated scope is refused too: no parser gets to pick a copy', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic('svc', SVC_SECRET),
      },
      payload: 'grant_type=client_credentials&scope=read&scope=write',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().error).toBe('invalid_request')
  })

  it('a missing grant_type is 400 invalid_request', async () => {
    const response = await postForm(server.app, '/oauth/token', { client_id: 'web' })
    expect(response.status).toBe(400)
    expect(response.body.error).toBe('invalid_request')
    expect(response.body.error_description).toContain('grant_type')
  })

  it('an unknown grant type is 400 unsupported_grant_type', async () => {
    const response = await postForm(server.app, '/oauth/token', {
      grant_type: 'urn:example:telepathy',
      client_id: 'web',
    })
    expect(response.status).toBe(400)
    expect(response.body.error).toBe('unsupported_grant_type')
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('a body over the size limit is refused with 413', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&client_id=web&username=alice&password=${'x'.repeat(70 * 1024)}`,
    })
    expect(response.statusCode).toBe(413)
    expect(response.json().error).toBe('invalid_request')
    expect(response.headers['cache-control']).toBe('no-store')
    expect(response.body).not.toContain('xxxx')
  })

  it('a form body over the form limit (but under the server limit) is refused with 413', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=password&client_id=web&username=alice&password=${'x'.repeat(20 * 1024)}`,
    })
    expect(response.statusCode).toBe(413)
    expect(response.json().error).toBe('invalid_request')
  })

  it('an absurdly long parameter is 400 invalid_request, and its value is not echoed', async () => {
    const username = `u${'z'.repeat(4000)}`
    const response = await postForm(server.app, '/oauth/token', {
      grant_type: 'password',
      client_id: 'web',
      username,
      password: PASSWORD,
    })
    expect(response.status).toBe(400)
    expect(response.body.error).toBe('invalid_request')
    expect(JSON.stringify(response.body)).not.toContain('zzzzzzzz')
    expect(response.headers['cache-control']).toBe('no-store')
  })

  it('an absurdly long grant_type is refused without being echoed', async () => {
    const response = await postForm(server.app, '/oauth/token', {
      grant_type: 'g'.repeat(5000),
      client_id: 'web',
    })
    expect(response.status).toBe(400)
    expect(response.body.error).toBe('invalid_request')
    expect(JSON.stringify(response.body)).not.toContain('gggggggg')
  })
})

for (const dialect of DIALECTS) {
  describe(`token endpoint, RFC 6749 §3.2 and §5 (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    describe('client authentication', () => {
      it('client_secret_basic authenticates a confidential client', async () => {
        const response = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('svc', SVC_SECRET),
        })
        expect(response.status).toBe(200)
      })

      it('client_secret_basic form-urlencodes id and secret before base64 (a secret with ":" "%" "+" and spaces)', async () => {
        const secret = 'p:ss%20w+rd with:colons%'
        await createClient(server.admin, {
          id: 'odd:client',
          secret,
          isPublic: false,
          grantTypes: ['client_credentials'],
          scopes: ['read'],
          redirectUris: [],
        })
        const ok = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: formBasic('odd:client', secret),
        })
        expect(ok.status).toBe(200)
        expect(ok.body.scope).toBe('read')
        // percent-encoding (what encodeURIComponent does) decodes to the same secret
        const percent = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('odd:client', secret),
        })
        expect(percent.status).toBe(200)
        // the raw secret is not form-urlencoded: "%20" would decode to a space, so it fails
        const raw = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: `Basic ${Buffer.from(`odd%3Aclient:${secret}`).toString('base64')}`,
        })
        expect(raw.status).toBe(401)
        expect(raw.body.error).toBe('invalid_client')
      })

      it('the Basic scheme name is case-insensitive (RFC 7617)', async () => {
        const response = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('svc', SVC_SECRET).replace('Basic', 'basic'),
        })
        expect(response.status).toBe(200)
      })

      it('client_secret_post authenticates a confidential client', async () => {
        const response = await postForm(server.app, '/oauth/token', {
          ...CLIENT_CREDENTIALS,
          client_id: 'svc',
          client_secret: SVC_SECRET,
        })
        expect(response.status).toBe(200)
      })

      it('a public client names itself with client_id alone', async () => {
        const response = await postForm(server.app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'web',
          username: 'alice',
          password: PASSWORD,
        })
        expect(response.status).toBe(200)
      })

      it('Basic credentials and client_secret in the body together are 400 invalid_request', async () => {
        const response = await postForm(
          server.app,
          '/oauth/token',
          { ...CLIENT_CREDENTIALS, client_secret: SVC_SECRET },
          { authorization: basic('svc', SVC_SECRET) },
        )
        expect(response.status).toBe(400)
        expect(response.body.error).toBe('invalid_request')
      })

      it('a body client_id that differs from the Basic credentials is 400 invalid_request', async () => {
        const response = await postForm(
          server.app,
          '/oauth/token',
          { ...CLIENT_CREDENTIALS, client_id: 'web' },
          { authorization: basic('svc', SVC_SECRET) },
        )
        expect(response.status).toBe(400)
        expect(response.body.error).toBe('invalid_request')
      })

      it('a wrong secret and an unknown client get 401 invalid_client with one identical answer', async () => {
        const wrongBasic = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('svc', 'not-the-secret-at-all'),
        })
        const unknownBasic = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('nobody', 'not-the-secret-at-all'),
        })
        const wrongPost = await postForm(server.app, '/oauth/token', {
          ...CLIENT_CREDENTIALS,
          client_id: 'svc',
          client_secret: 'not-the-secret-at-all',
        })
        const unknownPost = await postForm(server.app, '/oauth/token', {
          ...CLIENT_CREDENTIALS,
          client_id: 'nobody',
        })
        for (const response of [wrongBasic, unknownBasic, wrongPost, unknownPost]) {
          expect(response.status).toBe(401)
          expect(response.body.error).toBe('invalid_client')
          expect(response.headers['www-authenticate']).toMatch(/^Basic realm="tessera"/)
          expect(response.headers['cache-control']).toBe('no-store')
          expect(response.body).toEqual(wrongBasic.body)
        }
      })

      it('a confidential client that sends no secret is 401 invalid_client', async () => {
        const response = await postForm(server.app, '/oauth/token', {
          ...CLIENT_CREDENTIALS,
          client_id: 'svc',
        })
        expect(response.status).toBe(401)
        expect(response.body.error).toBe('invalid_client')
        expect(response.headers['www-authenticate']).toMatch(/^Basic /)
      })

      it('a public client that sends a secret is 401 invalid_client', async () => {
        const response = await postForm(server.app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'web',
          client_secret: 'something-sixteen-plus',
          username: 'alice',
          password: PASSWORD,
        })
        expect(response.status).toBe(401)
        expect(response.body.error).toBe('invalid_client')
      })

      it('no client authentication at all is 401 invalid_client', async () => {
        const response = await postForm(server.app, '/oauth/token', {
          grant_type: 'password',
          username: 'alice',
          password: PASSWORD,
        })
        expect(response.status).toBe(401)
        expect(response.body.error).toBe('invalid_client')
        expect(response.headers['www-authenticate']).toMatch(/^Basic /)
      })

      it('a malformed Authorization header is 401 invalid_client', async () => {
        for (const authorization of [
          'Bearer abc',
          'Basic !!!',
          `Basic ${Buffer.from('no-colon').toString('base64')}`,
        ]) {
          const response = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, { authorization })
          expect(response.status).toBe(401)
          expect(response.body.error).toBe('invalid_client')
        }
      })

      it('every failed client authentication writes a client_auth_failed audit row with the reason', async () => {
        await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('svc', 'not-the-secret-at-all'),
        })
        await postForm(server.app, '/oauth/token', { ...CLIENT_CREDENTIALS, client_id: 'ghost' })
        const rows = await server.app.tessera.store.listAudit({ type: 'client_auth_failed' })
        expect(rows).toHaveLength(2)
        const byClient = Object.fromEntries(rows.map((row) => [row.clientId, row]))
        expect(byClient.svc?.detail).toMatchObject({ reason: 'wrong_secret', method: 'client_secret_basic' })
        expect(byClient.ghost?.detail).toMatchObject({ reason: 'unknown_client', method: 'none' })
        expect(JSON.stringify(rows)).not.toContain('not-the-secret-at-all')
      })

      it('a client not registered for the grant is 400 unauthorized_client', async () => {
        const web = await postForm(server.app, '/oauth/token', { ...CLIENT_CREDENTIALS, client_id: 'web' })
        expect(web.status).toBe(400)
        expect(web.body.error).toBe('unauthorized_client')
        await createClient(server.admin, {
          id: 'machine',
          secret: 'machine-secret-0123456789',
          isPublic: false,
          grantTypes: ['client_credentials'],
          scopes: ['read'],
          redirectUris: [],
        })
        const machine = await postForm(
          server.app,
          '/oauth/token',
          { grant_type: 'password', username: 'alice', password: PASSWORD },
          { authorization: basic('machine', 'machine-secret-0123456789') },
        )
        expect(machine.status).toBe(400)
        expect(machine.body.error).toBe('unauthorized_client')
        expect(machine.headers['cache-control']).toBe('no-store')
      })
    })

    describe('responses', () => {
      it('success is 200 {access_token, token_type: Bearer, expires_in, refresh_token, scope} with no-store', async () => {
        const response = await postForm(server.app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'web',
          username: 'alice',
          password: PASSWORD,
        })
        expect(response.status).toBe(200)
        expect(response.headers['content-type']).toMatch(/^application\/json/)
        expect(response.headers['cache-control']).toBe('no-store')
        expect(response.headers.pragma).toBe('no-cache')
        expect(Object.keys(response.body).sort()).toEqual(
          ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'].sort(),
        )
        expect(response.body).toMatchObject({
          token_type: 'Bearer',
          expires_in: 900,
          scope: 'read write admin',
        })
        expect(response.body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
        expect(response.body.refresh_token).toMatch(/^tsr_/)
      })

      it('a response without a session carries no refresh_token key at all', async () => {
        const response = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('svc', SVC_SECRET),
        })
        expect(response.status).toBe(200)
        expect(response.headers['cache-control']).toBe('no-store')
        expect(Object.keys(response.body).sort()).toEqual([
          'access_token',
          'expires_in',
          'scope',
          'token_type',
        ])
      })

      it('error bodies are {error, error_description} only: no stack, no internals, no password', async () => {
        const responses = [
          await postForm(server.app, '/oauth/token', {
            grant_type: 'password',
            client_id: 'web',
            username: 'alice',
            password: 'wrong-password-42',
          }),
          await postForm(server.app, '/oauth/token', {
            grant_type: 'refresh_token',
            client_id: 'web',
            refresh_token: 'x',
          }),
          await postForm(server.app, '/oauth/token', { grant_type: 'nope', client_id: 'web' }),
          await postForm(server.app, '/oauth/token', { client_id: 'ghost', grant_type: 'password' }),
        ]
        for (const response of responses) {
          expect(response.status).toBeGreaterThanOrEqual(400)
          expect(Object.keys(response.body).sort()).toEqual(['error', 'error_description'])
          expectNoInternals(response.body)
          expect(JSON.stringify(response.body)).not.toContain('wrong-password-42')
        }
        const malformed = await server.app.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: { 'content-type': 'application/json' },
          payload: '{"grant_type": "password", "password": "s3cret-in-broken-json',
        })
        expect(malformed.statusCode).toBe(400)
        expectNoInternals(malformed.json())
        expect(malformed.body).not.toContain('s3cret-in-broken-json')
      })

      it('an unexpected failure is a 500 server_error with a request id and no detail', async () => {
        const clients = server.app.tessera.clients as { find: (id: string) => Promise<unknown> }
        clients.find = async () => {
          throw new TypeError('internal detail: /srv/tessera/src/clients.ts:12 cannot read "secret_hash"')
        }
        const response = await postForm(server.app, '/oauth/token', CLIENT_CREDENTIALS, {
          authorization: basic('svc', SVC_SECRET),
        })
        expect(response.status).toBe(500)
        expect(response.headers['cache-control']).toBe('no-store')
        expect(response.body).toEqual({
          error: 'server_error',
          error_description: expect.any(String),
          request_id: expect.any(String),
        })
        expect(JSON.stringify(response.body)).not.toContain('internal detail')
        expectNoInternals(response.body)
      })
    })
  })
}
