import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Listening, listenFastify } from '../../support/listen.js'
import { DEMO, login, startTessera, type Tessera } from '../../support/tessera.js'
import { buildAccountApi } from '../app.js'

let tessera: Tessera
let api: Listening
let otherAudienceApi: Listening
let strictApi: Listening
let refusals: { code: string; reason: string; route: string }[] = []

beforeAll(async () => {
  tessera = await startTessera()
  const onRefusal = (refusal: { code: string; reason: string; route: string }) => refusals.push(refusal)
  api = await listenFastify(await buildAccountApi({ issuer: tessera.url, now: tessera.clock.now, onRefusal }))
  otherAudienceApi = await listenFastify(
    await buildAccountApi({ issuer: tessera.url, audience: 'https://billing.example.com', onRefusal }),
  )
  strictApi = await listenFastify(
    await buildAccountApi({
      issuer: tessera.url,
      now: tessera.clock.now,
      onRefusal,
      introspection: { clientId: DEMO.serviceClient, clientSecret: DEMO.serviceSecret },
    }),
  )
})

beforeEach(() => {
  refusals = []
})

afterAll(async () => {
  await api?.close()
  await otherAudienceApi?.close()
  await strictApi?.close()
  await tessera?.close()
})

const get = (path: string, headers: Record<string, string> = {}, base = api.url) =>
  fetch(`${base}${path}`, { headers })

async function refusal(response: Response) {
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: await response.json(),
  }
}

describe('securing endpoints with the bearer guard', () => {
  it('a route marked public answers without a token', async () => {
    expect((await get('/healthz')).status).toBe(200)
  })

  it('a route without auth settings is protected by default', async () => {
    const response = await get('/account')
    expect(response.status).toBe(401)
  })

  it('a request without a token gets 401 and a challenge without an error code', async () => {
    const answer = await refusal(await get('/account'))
    expect(answer.status).toBe(401)
    expect(answer.challenge).toBe('Bearer realm="account"')
  })

  it('a valid token gets through', async () => {
    const { access_token } = await login(tessera.url)
    const response = await get('/account', { authorization: `Bearer ${access_token}` })
    expect(response.status).toBe(200)
  })

  it('a garbage token gets 401 invalid_token', async () => {
    const answer = await refusal(await get('/account', { authorization: 'Bearer abc.def.ghi' }))
    expect(answer.status).toBe(401)
    expect(answer.challenge).toBe('Bearer realm="account", error="invalid_token"')
    expect(answer.body.error).toBe('invalid_token')
  })

  it('a forged, a foreign and an expired token get the very same answer while the log keeps the reasons', async () => {
    const { access_token } = await login(tessera.url)
    const [header, payload, signature] = access_token.split('.') as [string, string, string]
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
    const forged = await refusal(
      await get('/account', { authorization: `Bearer ${header}.${payload}.${flipped}` }),
    )
    const foreign = await refusal(
      await get('/account', { authorization: `Bearer ${access_token}` }, otherAudienceApi.url),
    )
    tessera.clock.advance(tessera.config.accessTokenTtl + 10)
    const expired = await refusal(await get('/account', { authorization: `Bearer ${access_token}` }))

    expect(forged.status).toBe(401)
    expect(foreign).toEqual(forged)
    expect(expired).toEqual(forged)
    expect(JSON.stringify([forged, foreign, expired])).not.toMatch(/expired|signature|audience/i)
    expect(refusals.map((entry) => entry.reason)).toEqual(['bad_signature', 'wrong_audience', 'expired'])
  })

  it('a token in the query string is ignored, so the request counts as unauthenticated', async () => {
    const { access_token } = await login(tessera.url)
    const answer = await refusal(await get(`/account?access_token=${access_token}`))
    expect(answer.status).toBe(401)
    expect(answer.challenge).toBe('Bearer realm="account"')
  })

  it('an empty bearer value is a malformed request: 400 invalid_request', async () => {
    const answer = await refusal(await get('/account', { authorization: 'Bearer ' }))
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_request')
  })

  it('a valid token without the route scope gets 403 insufficient_scope naming it', async () => {
    const { access_token } = await login(tessera.url, { scope: 'read' })
    const response = await fetch(`${api.url}/account/email`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${access_token}` },
    })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="account", error="insufficient_scope", scope="write"',
    )
  })

  it('refusals are never cached by browsers or proxies', async () => {
    const response = await get('/account', { authorization: 'Bearer abc.def.ghi' })
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('after sign-out a locally verified token still works until it expires, an introspecting api refuses it at once', async () => {
    const { access_token } = await login(tessera.url)
    const bearer = { authorization: `Bearer ${access_token}` }
    expect((await get('/account', bearer, strictApi.url)).status).toBe(200)
    const logout = await fetch(`${tessera.url}/logout`, { method: 'POST', headers: bearer })
    expect(logout.status).toBeLessThan(300)
    tessera.clock.advance(6)

    expect((await get('/account', bearer)).status).toBe(200)
    const strict = await refusal(await get('/account', bearer, strictApi.url))
    expect(strict.status).toBe(401)
    expect(strict.challenge).toBe('Bearer realm="account", error="invalid_token"')
  })
})
