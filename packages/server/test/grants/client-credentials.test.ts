import { decodeJwt } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/admin.js'
import { DIALECTS } from '../support/dialects.js'
import { basic, postForm, SVC_SECRET, startTestServer, type TestServer } from '../support/server.js'

for (const dialect of DIALECTS) {
  describe(`client_credentials grant (${dialect})`, () => {
    let server: TestServer
    beforeEach(async () => {
      server = await startTestServer({ dialect })
    })
    afterEach(async () => {
      await server.close()
    })

    const issue = (form: Record<string, string> = {}) =>
      postForm(
        server.app,
        '/oauth/token',
        { grant_type: 'client_credentials', ...form },
        { authorization: basic('svc', SVC_SECRET) },
      )

    it('a confidential client gets an access token whose subject is the client itself', async () => {
      const response = await issue()
      expect(response.status).toBe(200)
      expect(response.headers['cache-control']).toBe('no-store')
      expect(response.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        scope: 'read write',
      })
      const claims = decodeJwt(response.body.access_token as string)
      expect(claims).toMatchObject({
        iss: server.config.issuer,
        aud: server.config.audience,
        sub: 'svc',
        client_id: 'svc',
        scope: 'read write',
      })
    })

    it('issues no refresh token, no session and no roles', async () => {
      const response = await issue()
      expect(response.body).not.toHaveProperty('refresh_token')
      const claims = decodeJwt(response.body.access_token as string)
      expect(claims).not.toHaveProperty('sid')
      expect(claims).not.toHaveProperty('roles')
    })

    it('narrows the scope to what is asked for', async () => {
      const response = await issue({ scope: 'read' })
      expect(response.status).toBe(200)
      expect(response.body.scope).toBe('read')
      expect(decodeJwt(response.body.access_token as string).scope).toBe('read')
    })

    it('a scope the client is not registered for is 400 invalid_scope', async () => {
      const response = await issue({ scope: 'read admin' })
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('invalid_scope')
      expect(response.headers['cache-control']).toBe('no-store')
    })

    it('counts issued tokens by grant type', async () => {
      await issue()
      await issue({ scope: 'read' })
      const metrics = await server.app.inject({ url: '/metrics' })
      expect(metrics.body).toMatch(/^tessera_tokens_issued_total\{grant_type="client_credentials"\} 2$/m)
    })

    it('a public client is refused with 400 unauthorized_client', async () => {
      const response = await postForm(server.app, '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'web',
      })
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('unauthorized_client')
    })

    it('a public client is refused even if its registration lists client_credentials', async () => {
      // createClient refuses this registration; the grant does not rely on that alone.
      await server.app.tessera.store.createClient({
        id: 'rogue',
        secretHash: null,
        isPublic: true,
        grantTypes: ['client_credentials'],
        scopes: ['read'],
        redirectUris: [],
        requireConsent: false,
        createdAt: server.clock.now(),
      })
      const response = await postForm(server.app, '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'rogue',
      })
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('unauthorized_client')
    })

    it('a confidential client without the grant is refused with 400 unauthorized_client', async () => {
      await createClient(server.admin, {
        id: 'backend',
        secret: 'backend-secret-0123456789',
        isPublic: false,
        grantTypes: ['password'],
        scopes: ['read'],
        redirectUris: [],
      })
      const response = await postForm(
        server.app,
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic('backend', 'backend-secret-0123456789') },
      )
      expect(response.status).toBe(400)
      expect(response.body.error).toBe('unauthorized_client')
    })
  })
}
