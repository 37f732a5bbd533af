import { createHash, randomBytes } from 'node:crypto'
import { createClient } from '@tessera/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenNode } from '../../support/listen.js'
import { DEMO, requestToken, startTessera, type Tessera } from '../../support/tessera.js'
import { buildOrdersApi } from '../app.js'

let tessera: Tessera
let api: Listening
const service = { id: DEMO.serviceClient, secret: DEMO.serviceSecret }

beforeAll(async () => {
  tessera = await startTessera()
  api = await listenNode(buildOrdersApi({ issuer: tessera.url }))
})

afterAll(async () => {
  await api?.close()
  await tessera?.close()
})

const orders = (accessToken: unknown) =>
  fetch(`${api.url}/orders`, { headers: { authorization: `Bearer ${String(accessToken)}` } })

/** A browser's part of the authorization code flow: follow the hosted sign-in page, keep its cookies. */
async function signInAtTessera(authorizeParams: Record<string, string>): Promise<URL> {
  const cookies = new Map<string, string>()
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const [name = '', ...value] = pair.split('=')
      cookies.set(name, value.join('='))
    }
  }
  const cookie = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  const page = await fetch(`${tessera.url}/oauth/authorize?${new URLSearchParams(authorizeParams)}`)
  expect(page.status).toBe(200)
  keep(page)
  const html = await page.text()
  const field = (name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&') ?? ''
  const signedIn = await fetch(`${tessera.url}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      request: field('request'),
      csrf: field('csrf'),
      step: 'sign-in',
      username: DEMO.username,
      password: DEMO.password,
    }),
  })
  expect(signedIn.status).toBe(303)
  return new URL(signedIn.headers.get('location') ?? '')
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

describe('oauth 2 grants', () => {
  const authorize = (challenge: string) =>
    signInAtTessera({
      response_type: 'code',
      client_id: DEMO.publicClient,
      redirect_uri: DEMO.redirectUri,
      scope: 'read',
      state: 'af0ifjsldkj',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })

  const redeem = (code: string, codeVerifier: string) =>
    requestToken(tessera.url, {
      grant_type: 'authorization_code',
      client_id: DEMO.publicClient,
      code,
      redirect_uri: DEMO.redirectUri,
      code_verifier: codeVerifier,
    })

  it("the authorization code grant with pkce signs a user in on tessera's own page", async () => {
    const { verifier, challenge } = pkce()
    const redirect = await authorize(challenge)
    expect(`${redirect.origin}${redirect.pathname}`).toBe(DEMO.redirectUri)
    expect(redirect.searchParams.get('state')).toBe('af0ifjsldkj')

    const answer = await redeem(redirect.searchParams.get('code') ?? '', verifier)
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ token_type: 'Bearer', scope: 'read' })
    expect(answer.body.refresh_token).toMatch(/^tsr_/)
    const response = await orders(answer.body.access_token)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ actor: 'user', client: DEMO.publicClient })
  })

  it('an intercepted code is useless without the verifier that only the app knows', async () => {
    const redirect = await authorize(pkce().challenge)
    const stolen = await redeem(redirect.searchParams.get('code') ?? '', pkce().verifier)
    expect(stolen.status).toBe(400)
    expect(stolen.body.error).toBe('invalid_grant')
  })

  it('the metadata document lists the grants this server supports', async () => {
    const metadata = await (await fetch(`${tessera.url}/.well-known/oauth-authorization-server`)).json()
    expect(metadata.issuer).toBe(tessera.url)
    expect(metadata.token_endpoint).toBe(`${tessera.url}/oauth/token`)
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'password', 'client_credentials', 'refresh_token']),
    )
  })

  it('the password grant signs a user in and the token reads orders as that user', async () => {
    const answer = await requestToken(tessera.url, {
      grant_type: 'password',
      client_id: DEMO.publicClient,
      username: DEMO.username,
      password: DEMO.password,
      scope: 'read',
    })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read' })
    expect(answer.body.refresh_token).toMatch(/^tsr_/)

    const response = await orders(answer.body.access_token)
    expect(response.status).toBe(200)
    const user = await tessera.admin.store.findUserByUsername(DEMO.username)
    expect(await response.json()).toMatchObject({
      actor: 'user',
      subject: user?.id,
      client: DEMO.publicClient,
    })
  })

  it('the client credentials grant gives a service a token for itself, without a refresh token', async () => {
    const answer = await requestToken(
      tessera.url,
      { grant_type: 'client_credentials', scope: 'read' },
      service,
    )
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ token_type: 'Bearer', scope: 'read' })
    expect(answer.body).not.toHaveProperty('refresh_token')

    const response = await orders(answer.body.access_token)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      actor: 'service',
      subject: DEMO.serviceClient,
      client: DEMO.serviceClient,
    })
  })

  it('a confidential client may also send its secret in the form body', async () => {
    const answer = await requestToken(tessera.url, {
      grant_type: 'client_credentials',
      client_id: DEMO.serviceClient,
      client_secret: DEMO.serviceSecret,
    })
    expect(answer.status).toBe(200)
  })

  it('a wrong client secret is 401 invalid_client with a basic challenge', async () => {
    const answer = await requestToken(
      tessera.url,
      { grant_type: 'client_credentials' },
      { id: DEMO.serviceClient, secret: 'not-the-secret-0000' },
    )
    expect(answer.status).toBe(401)
    expect(answer.body.error).toBe('invalid_client')
    expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /)
  })

  it('a public client cannot use client credentials: it has no secret to prove who it is', async () => {
    const answer = await requestToken(tessera.url, {
      grant_type: 'client_credentials',
      client_id: DEMO.publicClient,
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('unauthorized_client')
  })

  it('a client not registered for the password grant cannot use it', async () => {
    const answer = await requestToken(
      tessera.url,
      { grant_type: 'password', username: DEMO.username, password: DEMO.password },
      service,
    )
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('unauthorized_client')
  })

  it('a scope the client was not registered for is invalid_scope', async () => {
    await createClient(tessera.admin, {
      id: 'reporting',
      secret: 'reporting-secret-0123456789',
      isPublic: false,
      grantTypes: ['client_credentials'],
      scopes: ['read'],
      redirectUris: [],
    })
    const answer = await requestToken(
      tessera.url,
      { grant_type: 'client_credentials', scope: 'read write' },
      { id: 'reporting', secret: 'reporting-secret-0123456789' },
    )
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_scope')
  })

  it('an unknown grant type is unsupported_grant_type', async () => {
    const answer = await requestToken(tessera.url, {
      grant_type: 'urn:example:magic',
      client_id: DEMO.publicClient,
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('unsupported_grant_type')
  })

  it('the token endpoint takes form-encoded bodies only', async () => {
    const response = await fetch(`${tessera.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toBe('invalid_request')
  })
})
