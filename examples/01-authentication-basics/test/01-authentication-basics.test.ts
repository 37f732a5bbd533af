import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Listening } from '../../support/listen.js'
import { listenFastify } from '../../support/listen.js'
import { DEMO, login, requestToken, startTessera, type Tessera } from '../../support/tessera.js'
import { buildProfileApi } from '../app.js'

let tessera: Tessera
let api: Listening

beforeAll(async () => {
  tessera = await startTessera()
  api = await listenFastify(await buildProfileApi({ issuer: tessera.url }))
})

afterAll(async () => {
  await api?.close()
  await tessera?.close()
})

describe('authentication basics', () => {
  it('a public route answers anyone', async () => {
    const response = await fetch(`${api.url}/hello`)
    expect(response.status).toBe(200)
  })

  it('a protected route asks for credentials with a bearer challenge', async () => {
    const response = await fetch(`${api.url}/me`)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="profile"')
  })

  it('a wrong password is refused by tessera without saying which part was wrong', async () => {
    const wrongPassword = await requestToken(tessera.url, {
      grant_type: 'password',
      client_id: DEMO.publicClient,
      username: DEMO.username,
      password: 'not-the-password',
    })
    const unknownUser = await requestToken(tessera.url, {
      grant_type: 'password',
      client_id: DEMO.publicClient,
      username: 'nobody',
      password: 'not-the-password',
    })
    expect(wrongPassword.status).toBe(400)
    expect(wrongPassword.body.error).toBe('invalid_grant')
    expect(unknownUser.body).toEqual(wrongPassword.body)
  })

  it('the right password yields a token that identifies the user to the api', async () => {
    const tokens = await login(tessera.url)
    const user = await tessera.admin.store.findUserByUsername(DEMO.username)
    const response = await fetch(`${api.url}/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      user: user?.id,
      client: DEMO.publicClient,
      roles: ['user'],
    })
  })

  it('a made-up token is refused as invalid_token', async () => {
    const response = await fetch(`${api.url}/me`, { headers: { authorization: 'Bearer not.a.token' } })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })
})
