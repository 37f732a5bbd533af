import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../support/server.js'

describe('authorization server metadata, RFC 8414', () => {
  let server: TestServer
  beforeEach(async () => {
    server = await startTestServer()
  })
  afterEach(async () => {
    await server.close()
  })

  const metadata = async () => {
    const response = await server.app.inject({ url: '/.well-known/oauth-authorization-server' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    return response.json() as Record<string, unknown>
  }

  it('names the issuer exactly as tokens carry it', async () => {
    const doc = await metadata()
    expect(doc.issuer).toBe(server.config.issuer)
  })

  it('lists every endpoint under the issuer, and each one answers', async () => {
    const doc = await metadata()
    const issuer = server.config.issuer
    const endpoints = {
      authorization_endpoint: ['GET', '/oauth/authorize'],
      token_endpoint: ['POST', '/oauth/token'],
      jwks_uri: ['GET', '/.well-known/jwks.json'],
      revocation_endpoint: ['POST', '/oauth/revoke'],
      introspection_endpoint: ['POST', '/oauth/introspect'],
      service_documentation: ['GET', '/docs'],
    } as const
    for (const [field, [method, path]] of Object.entries(endpoints)) {
      expect(doc[field], field).toBe(`${issuer}${path}`)
      const response = await server.app.inject({ method, url: path })
      expect(response.statusCode, `${method} ${path}`).not.toBe(404)
      expect(response.statusCode, `${method} ${path}`).toBeLessThan(500)
    }
  })

  it('lists every grant type the token endpoint serves', async () => {
    const doc = await metadata()
    expect([...(doc.grant_types_supported as string[])].sort()).toEqual(
      ['authorization_code', 'client_credentials', 'password', 'refresh_token'].sort(),
    )
    expect(doc.response_types_supported).toEqual(['code'])
    expect(doc.code_challenge_methods_supported).toEqual(['S256'])
  })

  it('lists the client authentication methods of each endpoint', async () => {
    const doc = await metadata()
    for (const field of [
      'token_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported',
    ]) {
      expect([...(doc[field] as string[])].sort(), field).toEqual(
        ['client_secret_basic', 'client_secret_post', 'none'].sort(),
      )
    }
    // introspection needs real credentials: a public client cannot use it
    expect(doc.introspection_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
    ])
  })

  it('lists every scope a registered client may ask for', async () => {
    const doc = await metadata()
    expect(doc.scopes_supported).toEqual(['admin', 'read', 'write'])
  })

  it('lists the signing algorithm of access tokens', async () => {
    const doc = await metadata()
    expect(doc.access_token_signing_alg_values_supported).toEqual([server.config.signingAlg])
  })

  it('is cacheable: it changes only when the deployment does', async () => {
    const response = await server.app.inject({ url: '/.well-known/oauth-authorization-server' })
    expect(response.headers['cache-control']).toMatch(/^public, max-age=\d+$/)
  })
})

describe('authorization server metadata with another algorithm', () => {
  it('names the configured algorithm', async () => {
    const server = await startTestServer({ config: { signingAlg: 'EdDSA' } })
    try {
      const doc = (await server.app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
      expect(doc.access_token_signing_alg_values_supported).toEqual(['EdDSA'])
    } finally {
      await server.close()
    }
  })
})
