import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenFetch } from '../../support/listen.js'
import { DEMO, startTessera, type Tessera } from '../../support/tessera.js'
import { buildRefreshDemo } from '../app.js'

/** The client surface SPEC §9 promises; typed here while the package is being finished. */
interface TokenClient {
  login(username: string, password: string): Promise<unknown>
  fetch(url: string, init?: RequestInit): Promise<Response>
  on(event: 'refreshed' | 'logout', listener: (...args: unknown[]) => void): unknown
  logout(): Promise<void>
}
type CreateClient = (options: { issuer: string; clientId: string; clientSecret?: string }) => TokenClient

const clientPackage = (await import('@tessera/client')) as { createClient?: CreateClient }
const createClient = clientPackage.createClient

const ACCESS_TOKEN_TTL = 2

let tessera: Tessera
let app: Listening

describe.skipIf(createClient === undefined)('@tessera/client keeps the user signed in', () => {
  beforeAll(async () => {
    tessera = await startTessera({ config: { accessTokenTtl: ACCESS_TOKEN_TTL } })
    app = await listenFetch(buildRefreshDemo({ issuer: tessera.url, clockTolerance: 0 }).fetch)
  })

  afterAll(async () => {
    await app?.close()
    await tessera?.close()
  })

  it('refreshes transparently when the access token expires, within the same session', async () => {
    const client = (createClient as CreateClient)({ issuer: tessera.url, clientId: DEMO.publicClient })
    let refreshes = 0
    client.on('refreshed', () => {
      refreshes += 1
    })
    await client.login(DEMO.username, DEMO.password)

    const first = await client.fetch(`${app.url}/api/profile`)
    expect(first.status).toBe(200)
    const before = (await first.json()) as { session: string; expiresAt: number }

    await new Promise((resolve) => setTimeout(resolve, (ACCESS_TOKEN_TTL + 0.5) * 1000))
    const second = await client.fetch(`${app.url}/api/profile`)
    expect(second.status).toBe(200)
    const after = (await second.json()) as { session: string; expiresAt: number }

    expect(refreshes).toBeGreaterThanOrEqual(1)
    expect(after.session).toBe(before.session)
    expect(after.expiresAt).toBeGreaterThan(before.expiresAt)
  })

  it('logging out ends the session and tells the app', async () => {
    const client = (createClient as CreateClient)({ issuer: tessera.url, clientId: DEMO.publicClient })
    let loggedOut = 0
    client.on('logout', () => {
      loggedOut += 1
    })
    await client.login(DEMO.username, DEMO.password)
    await client.logout()
    expect(loggedOut).toBe(1)
    const afterLogout = await client.fetch(`${app.url}/api/profile`).then(
      (response) => response.status,
      () => 'refused by the client',
    )
    expect(afterLogout).not.toBe(200)
  })
})
