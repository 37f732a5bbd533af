import { hashBasicCredential } from '@tessera/guard'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenFetch } from '../../support/listen.js'
import {
  basicAuthorization,
  DEMO,
  login,
  requestToken,
  startTessera,
  type Tessera,
} from '../../support/tessera.js'
import { buildBillingApi } from '../app.js'

const CRON_SECRET = 'cron-secret-for-tests'

let tessera: Tessera
let api: Listening

beforeAll(async () => {
  tessera = await startTessera()
  const app = buildBillingApi({
    issuer: tessera.url,
    credentials: { cron: await hashBasicCredential(CRON_SECRET) },
  })
  api = await listenFetch(app.fetch)
})

afterAll(async () => {
  await api?.close()
  await tessera?.close()
})

const charge = (authorization?: string) =>
  fetch(`${api.url}/internal/charges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ amount: 42 }),
  })

describe('http basic auth', () => {
  it('the stored credential is a salted scrypt hash, never the secret', async () => {
    const first = await hashBasicCredential(CRON_SECRET)
    const second = await hashBasicCredential(CRON_SECRET)
    expect(first).toMatch(/^scrypt\$/)
    expect(first).not.toContain(CRON_SECRET)
    expect(first).not.toBe(second)
  })

  it('the right credentials reach the route', async () => {
    const response = await charge(basicAuthorization('cron', CRON_SECRET))
    expect(response.status).toBe(201)
    expect(await response.json()).toMatchObject({ amount: 42, by: 'cron' })
  })

  it('no credentials get 401 with a basic challenge naming the realm', async () => {
    const response = await charge()
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="billing-internal"/)
  })

  it('a wrong password gets 401 with a basic challenge', async () => {
    const response = await charge(basicAuthorization('cron', 'guess'))
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
  })

  it('an unknown user gets exactly the same answer as a wrong password', async () => {
    const wrongPassword = await charge(basicAuthorization('cron', 'guess'))
    const unknownUser = await charge(basicAuthorization('mallory', 'guess'))
    expect(unknownUser.status).toBe(wrongPassword.status)
    expect(unknownUser.headers.get('www-authenticate')).toBe(wrongPassword.headers.get('www-authenticate'))
    expect(await unknownUser.text()).toBe(await wrongPassword.text())
  })

  it('a malformed basic header gets 401', async () => {
    const response = await charge('Basic not-base64!')
    expect(response.status).toBe(401)
  })

  it('a bearer token does not open a basic-only route', async () => {
    const tokens = await login(tessera.url)
    const response = await charge(`Bearer ${tokens.access_token}`)
    expect(response.status).toBe(401)
  })

  it('tessera itself authenticates confidential clients with basic at its token endpoint', async () => {
    const service = { id: DEMO.serviceClient, secret: DEMO.serviceSecret }
    const accepted = await requestToken(tessera.url, { grant_type: 'client_credentials' }, service)
    expect(accepted.status).toBe(200)
    const refused = await requestToken(
      tessera.url,
      { grant_type: 'client_credentials' },
      { id: DEMO.serviceClient, secret: 'wrong-secret-0123456789' },
    )
    expect(refused.status).toBe(401)
    expect(refused.body.error).toBe('invalid_client')
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /)
  })

  it('a token from the basic-authenticated client reads the bearer route', async () => {
    const service = { id: DEMO.serviceClient, secret: DEMO.serviceSecret }
    const { body } = await requestToken(
      tessera.url,
      { grant_type: 'client_credentials', scope: 'read' },
      service,
    )
    const response = await fetch(`${api.url}/charges`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ viewer: DEMO.serviceClient })
  })
})
