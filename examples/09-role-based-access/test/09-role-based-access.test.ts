import { createUser, setRoles } from '@tessera/server'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenNode } from '../../support/listen.js'
import { DEMO, login, requestToken, startTessera, type Tessera } from '../../support/tessera.js'
import { buildAdminApi } from '../app.js'

const PASSWORD = 'correct horse battery staple'

let tessera: Tessera
let api: Listening

beforeAll(async () => {
  tessera = await startTessera()
  await createUser(tessera.admin, { username: 'ada', password: PASSWORD, roles: ['admin'] })
  await createUser(tessera.admin, { username: 'victor', password: PASSWORD, roles: ['viewer'] })
  await createUser(tessera.admin, { username: 'nora', password: PASSWORD, roles: [] })
  api = await listenNode(buildAdminApi({ issuer: tessera.url }))
})

afterAll(async () => {
  await api?.close()
  await tessera?.close()
})

const signIn = (username: string) => login(tessera.url, { username, password: PASSWORD })

const call = (method: string, path: string, token: string) =>
  fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify({ title: 'Costs' }) } : {}),
  })

describe('role-based access', () => {
  it('the roles given to a user at creation travel in the access token', async () => {
    const { access_token } = await signIn('ada')
    expect(decodeJwt(access_token).roles).toEqual(['admin'])
  })

  it('the api derives permissions from the roles through its map', async () => {
    const { access_token } = await signIn('victor')
    const response = await call('GET', '/me', access_token)
    expect(await response.json()).toMatchObject({ roles: ['viewer'], permissions: ['reports:read'] })
  })

  it('a viewer can read reports but not write them', async () => {
    const { access_token } = await signIn('victor')
    expect((await call('GET', '/reports', access_token)).status).toBe(200)
    const refused = await call('POST', '/reports', access_token)
    expect(refused.status).toBe(403)
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
  })

  it('a user can read and write reports but cannot manage users', async () => {
    const { access_token } = await login(tessera.url)
    expect((await call('GET', '/reports', access_token)).status).toBe(200)
    expect((await call('POST', '/reports', access_token)).status).toBe(201)
    expect((await call('DELETE', '/users/42', access_token)).status).toBe(403)
  })

  it('an admin can do everything', async () => {
    const { access_token } = await signIn('ada')
    expect((await call('GET', '/reports', access_token)).status).toBe(200)
    expect((await call('POST', '/reports', access_token)).status).toBe(201)
    const deleted = await call('DELETE', '/users/42', access_token)
    expect(deleted.status).toBe(200)
    expect(await deleted.json()).toMatchObject({ deleted: '42' })
  })

  it('a user without roles is authenticated but allowed nothing', async () => {
    const { access_token } = await signIn('nora')
    expect((await call('GET', '/me', access_token)).status).toBe(200)
    expect((await call('GET', '/reports', access_token)).status).toBe(403)
  })

  it('a service token has no roles, so role-guarded routes refuse it', async () => {
    const { body } = await requestToken(
      tessera.url,
      { grant_type: 'client_credentials' },
      { id: DEMO.serviceClient, secret: DEMO.serviceSecret },
    )
    expect((await call('GET', '/reports', String(body.access_token))).status).toBe(403)
  })

  it('a role change reaches the next refreshed token, while the current one keeps the old roles until it expires', async () => {
    const tokens = await signIn('victor')
    await setRoles(tessera.admin, 'victor', ['admin'])

    expect((await call('DELETE', '/users/7', tokens.access_token)).status).toBe(403)
    const refreshed = await requestToken(tessera.url, {
      grant_type: 'refresh_token',
      client_id: DEMO.publicClient,
      refresh_token: tokens.refresh_token,
    })
    expect(decodeJwt(String(refreshed.body.access_token)).roles).toEqual(['admin'])
    expect((await call('DELETE', '/users/7', String(refreshed.body.access_token))).status).toBe(200)
  })
})
