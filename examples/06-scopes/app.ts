import { createVerifier } from '@tessera/guard'
import { createHonoGuard, type GuardEnv } from '@tessera/guard/hono'
import { Hono } from 'hono'
import { listenFetch } from '../support/listen.js'

export interface NotesApiOptions {
  issuer: string
  audience?: string
}

/**
 * A notes API where each route names the scope it needs: reading needs `read`, writing needs
 * `write`. A token carries the scopes the user granted to the app, which may be fewer than the
 * user could do — least privilege for the app, not a permission system for the user.
 */
export function buildNotesApi(options: NotesApiOptions): Hono<GuardEnv> {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience ?? options.issuer })
  const guard = createHonoGuard({ verifier, realm: 'notes' })
  const notes: { id: number; text: string; author: string | undefined }[] = []

  const app = new Hono<GuardEnv>()
  app.get('/notes', guard.requireScope('read'), (c) => c.json({ scopes: c.get('auth')?.scopes, notes }))

  app.post('/notes', guard.requireScope('write'), async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { text?: unknown }
    const note = { id: notes.length + 1, text: String(body.text ?? ''), author: c.get('auth')?.sub }
    notes.push(note)
    return c.json(note, 201)
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const api = buildNotesApi({ issuer, audience: process.env.TESSERA_AUDIENCE ?? issuer })
  const { url } = await listenFetch(api.fetch, Number(process.env.PORT ?? 3006))
  console.log(`06-scopes listening on ${url} (tokens from ${issuer})`)
}
