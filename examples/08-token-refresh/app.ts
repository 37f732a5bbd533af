import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createVerifier } from '@tessera/guard'
import { createHonoGuard, type GuardEnv } from '@tessera/guard/hono'
import { Hono } from 'hono'
import { listenFetch } from '../support/listen.js'

export interface RefreshDemoOptions {
  issuer: string
  audience?: string
  now?: () => number
  /** Seconds of clock skew the guard allows; default 5. */
  clockTolerance?: number
}

const PUBLIC_DIR = new URL('./public/', import.meta.url)
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/refresh.js': { file: 'refresh.js', type: 'text/javascript; charset=utf-8' },
}
// The browser build of @tessera/client is its own dist folder: plain ES modules, no dependencies.
const CLIENT_DIST = dirname(createRequire(import.meta.url).resolve('@tessera/client'))
const CLIENT_MODULE = /^(?:errors\/)?[a-z-]+\.js$/
// No inline script anywhere: a script injected into the page could read tokens held in memory.
const CSP =
  "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

/**
 * A profile API plus a page that signs in with `@tessera/client`, shows the access token's
 * remaining lifetime and logs each refresh. The page reaches Tessera's token and revocation
 * endpoints through this app's same-origin pass-through (`/auth/*`), so no CORS set-up is needed.
 */
export function buildRefreshDemo(options: RefreshDemoOptions): Hono<GuardEnv> {
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience ?? options.issuer,
    ...(options.now ? { now: options.now } : {}),
    ...(options.clockTolerance !== undefined ? { clockTolerance: options.clockTolerance } : {}),
  })
  const guard = createHonoGuard({ verifier, realm: 'profile' })
  const app = new Hono<GuardEnv>()

  app.get('/api/profile', guard.requireAuth(), (c) => {
    const auth = c.get('auth')!
    return c.json({ user: auth.sub, session: auth.sid, expiresAt: auth.exp })
  })

  for (const endpoint of ['token', 'revoke'] as const) {
    app.post(`/auth/${endpoint}`, async (c) => {
      const upstream = await fetch(`${options.issuer}/oauth/${endpoint}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: await c.req.text(),
      })
      return new Response(upstream.body, {
        status: upstream.status,
        headers: {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
          'cache-control': 'no-store',
        },
      })
    })
  }

  for (const [path, { file, type }] of Object.entries(STATIC_FILES)) {
    app.get(path, async (c) => {
      const body = await readFile(new URL(file, PUBLIC_DIR), 'utf8')
      return c.body(body, 200, { 'content-type': type, 'content-security-policy': CSP })
    })
  }
  app.get('/vendor/tessera-client/*', async (c) => {
    const name = c.req.path.slice('/vendor/tessera-client/'.length)
    if (!CLIENT_MODULE.test(name)) return c.notFound()
    const body = await readFile(join(CLIENT_DIST, name), 'utf8').catch(() => undefined)
    if (body === undefined) return c.notFound()
    return c.body(body, 200, { 'content-type': 'text/javascript; charset=utf-8' })
  })
  app.get('/favicon.ico', (c) => c.body(null, 204))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:8080'
  const app = buildRefreshDemo({ issuer, audience: process.env.TESSERA_AUDIENCE ?? issuer })
  const { url } = await listenFetch(app.fetch, Number(process.env.PORT ?? 3008))
  console.log(`08-token-refresh: open ${url} (tokens from ${issuer})`)
}
