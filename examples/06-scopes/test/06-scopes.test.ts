import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenFetch } from '../../support/listen.js'
import { DEMO, login, requestToken, startTessera, type Tessera } from '../../support/tessera.js'
import { buildNotesApi } from '../app.js'

let tessera: Tessera
let api: Listening

beforeAll(async () => {
  tessera = await startTessera()
  api = await listenFetch(buildNotesApi({ issuer: tessera.url }).fetch)
})

afterAll(async () => {
  await api?.close()
  await tessera?.close()
})

const readNotes = (token: string) =>
  fetch(`${api.url}/notes`, { headers: { authorization: `Bearer ${token}` } })
const writeNote = (token: string) =>
  fetch(`${api.url}/notes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'buy milk' }),
  })

const refresh = (refreshToken: string, scope?: string) =>
  requestToken(tessera.url, {
    grant_type: 'refresh_token',
    client_id: DEMO.publicClient,
    refresh_token: refreshToken,
    ...(scope ? { scope } : {}),
  })

describe('scopes', () => {
  it('without a scope parameter the token gets every scope the client is registered for', async () => {
    const tokens = await login(tessera.url)
    expect(tokens.scope).toBe('read write')
    expect(decodeJwt(tokens.access_token).scope).toBe('read write')
  })

  it('a token with read can get notes', async () => {
    const tokens = await login(tessera.url, { scope: 'read' })
    expect(tokens.scope).toBe('read')
    expect((await readNotes(tokens.access_token)).status).toBe(200)
  })

  it('a token with only read cannot post, and the 403 names the missing scope', async () => {
    const tokens = await login(tessera.url, { scope: 'read' })
    const response = await writeNote(tokens.access_token)
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="notes", error="insufficient_scope", scope="write"',
    )
    expect((await response.json()).error).toBe('insufficient_scope')
  })

  it('a token with write can post', async () => {
    const tokens = await login(tessera.url, { scope: 'read write' })
    expect((await writeNote(tokens.access_token)).status).toBe(201)
  })

  it('asking for a scope the client may not have is invalid_scope at login', async () => {
    const answer = await requestToken(tessera.url, {
      grant_type: 'password',
      client_id: DEMO.publicClient,
      username: DEMO.username,
      password: DEMO.password,
      scope: 'read admin',
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_scope')
  })

  it('a refresh may narrow the scope and the narrower token can no longer write', async () => {
    const tokens = await login(tessera.url, { scope: 'read write' })
    const narrowed = await refresh(tokens.refresh_token, 'read')
    expect(narrowed.status).toBe(200)
    expect(narrowed.body.scope).toBe('read')
    const accessToken = String(narrowed.body.access_token)
    expect((await readNotes(accessToken)).status).toBe(200)
    expect((await writeNote(accessToken)).status).toBe(403)
  })

  it('narrowing one refresh does not shrink the session: the next refresh can ask for write again', async () => {
    const tokens = await login(tessera.url, { scope: 'read write' })
    const narrowed = await refresh(tokens.refresh_token, 'read')
    const widened = await refresh(String(narrowed.body.refresh_token), 'read write')
    expect(widened.status).toBe(200)
    expect(widened.body.scope).toBe('read write')
  })

  it('a refresh cannot widen the scope beyond what was granted at login', async () => {
    const tokens = await login(tessera.url, { scope: 'read' })
    const widened = await refresh(tokens.refresh_token, 'read write')
    expect(widened.status).toBe(400)
    expect(widened.body.error).toBe('invalid_scope')
  })

  it('a refused scope does not cost the client its refresh token', async () => {
    const tokens = await login(tessera.url, { scope: 'read' })
    await refresh(tokens.refresh_token, 'read write')
    const retry = await refresh(tokens.refresh_token)
    expect(retry.status).toBe(200)
    expect(retry.body.scope).toBe('read')
  })
})
