import { createClient, isNotSignedInError, type LogoutReason, type TesseraClient } from '@tessera/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenFetch } from '../../support/listen.js'
import { DEMO, requestToken, startTessera, type Tessera } from '../../support/tessera.js'
import { buildRefreshDemo } from '../app.js'

const ACCESS_TOKEN_TTL = 60

let tessera: Tessera
let app: Listening
const clients: TesseraClient[] = []

beforeAll(async () => {
  tessera = await startTessera({ config: { accessTokenTtl: ACCESS_TOKEN_TTL } })
  // Tessera and the API share one clock that the tests move; no test sleeps.
  app = await listenFetch(buildRefreshDemo({ issuer: tessera.url, now: tessera.clock.now }).fetch)
})

afterEach(() => {
  for (const client of clients.splice(0)) client.close()
})

afterAll(async () => {
  await app?.close()
  await tessera?.close()
})

async function signInClient(options: { now?: () => number } = {}) {
  const client = createClient({ issuer: tessera.url, clientId: DEMO.publicClient, tabs: false, ...options })
  clients.push(client)
  const tokens = await client.login(DEMO.username, DEMO.password)
  // Subscribed after login: 'refreshed' fires whenever new tokens are stored, the login's included.
  const refreshes: number[] = []
  const logouts: LogoutReason[] = []
  client.on('refreshed', (next) => refreshes.push(next.expiresAt))
  client.on('logout', ({ reason }) => logouts.push(reason))
  return { client, tokens, refreshes, logouts }
}

const profile = async (client: TesseraClient) => {
  const response = await client.fetch(`${app.url}/api/profile`)
  return { status: response.status, body: (await response.json()) as { session: string; expiresAt: number } }
}

describe('@tessera/client keeps the user signed in', () => {
  it('refreshes before the access token expires, within the same session', async () => {
    const { client, refreshes } = await signInClient({ now: tessera.clock.now })
    const before = await profile(client)
    expect(before.status).toBe(200)

    tessera.clock.advance(ACCESS_TOKEN_TTL - 1)
    const after = await profile(client)
    expect(after.status).toBe(200)
    expect(refreshes).toHaveLength(1)
    expect(after.body.session).toBe(before.body.session)
    expect(after.body.expiresAt).toBeGreaterThan(before.body.expiresAt)
  })

  it('refreshes and retries once when the api answers 401 invalid_token', async () => {
    // The client's own clock says the token is fresh; the API's clock is past its expiry.
    const { client, refreshes } = await signInClient()
    const before = await profile(client)

    tessera.clock.advance(ACCESS_TOKEN_TTL + 10)
    const after = await profile(client)
    expect(after.status).toBe(200)
    expect(refreshes).toHaveLength(1)
    expect(after.body.session).toBe(before.body.session)
  })

  it('concurrent calls with a stale token share one refresh', async () => {
    const { client, refreshes } = await signInClient({ now: tessera.clock.now })
    tessera.clock.advance(ACCESS_TOKEN_TTL)
    const answers = await Promise.all(Array.from({ length: 5 }, () => profile(client)))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200])
    expect(refreshes).toHaveLength(1)
  })

  it('when a stolen refresh token is replayed, the session dies and the client signs out', async () => {
    const { client, tokens: first, logouts } = await signInClient({ now: tessera.clock.now })
    await client.refresh()
    tessera.clock.advance(tessera.config.refreshReuseGrace + 1)

    const replay = await requestToken(tessera.url, {
      grant_type: 'refresh_token',
      client_id: DEMO.publicClient,
      refresh_token: String(first.refreshToken),
    })
    expect(replay.body.error).toBe('invalid_grant')

    await expect(client.refresh()).rejects.toThrow()
    expect(logouts).toEqual(['invalid_grant'])
    await expect(client.fetch(`${app.url}/api/profile`)).rejects.toSatisfy(isNotSignedInError)
  })

  it('logging out ends the session at tessera and tells the app', async () => {
    const { client, tokens, logouts } = await signInClient({ now: tessera.clock.now })
    await client.logout()
    expect(logouts).toEqual(['logout'])
    const refresh = await requestToken(tessera.url, {
      grant_type: 'refresh_token',
      client_id: DEMO.publicClient,
      refresh_token: String(tokens.refreshToken),
    })
    expect(refresh.body.error).toBe('invalid_grant')
    await expect(client.fetch(`${app.url}/api/profile`)).rejects.toSatisfy(isNotSignedInError)
  })
})
