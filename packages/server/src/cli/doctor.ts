import { randomBytes } from 'node:crypto'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { pino } from 'pino'
import { createClient, createUser, openAdmin } from '../admin.js'
import type { Config } from '../config.js'
import type { Io } from './admin-commands.js'
import { parse, UsageError } from './usage.js'

interface Check {
  name: string
  ok: boolean
  detail: string
}

type Form = Record<string, string>

/**
 * `tessera doctor`: checks a running deployment's token semantics end to end, over HTTP, on a
 * throwaway user and clients it creates through the deployment's database and deletes after:
 * discovery and JWKS, sign-in, exactly-once rotation under a burst of parallel refreshes, the
 * grace retry, reuse detection, revocation and introspection.
 */
export async function doctorCommand(config: Config, args: string[], io: Io): Promise<boolean> {
  const { values } = parse(args, {
    url: { type: 'string' },
    json: { type: 'boolean' },
    quick: { type: 'boolean' },
  })
  const base = (values.url ?? config.issuer).replace(/\/+$/, '')
  try {
    new URL(base)
  } catch {
    throw new UsageError(`--url must be the server's base URL, got "${values.url}"`)
  }
  const admin = await openAdmin(config, pino({ level: 'silent' }))
  const tag = `doctor-${randomBytes(4).toString('hex')}`
  const password = randomBytes(18).toString('base64url')
  const secret = randomBytes(24).toString('base64url')
  const checks: Check[] = []
  const check = async (name: string, run: () => Promise<string>) => {
    try {
      checks.push({ name, ok: true, detail: await run() })
    } catch (error) {
      checks.push({ name, ok: false, detail: (error as Error).message })
    }
  }
  const post = async (path: string, form: Form, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    })
    return {
      status: response.status,
      body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
    }
  }
  const basic = `Basic ${Buffer.from(`${tag}-svc:${secret}`).toString('base64')}`
  const signIn = () =>
    post('/oauth/token', { grant_type: 'password', client_id: tag, username: tag, password })
  const refresh = (token: string) =>
    post('/oauth/token', { grant_type: 'refresh_token', client_id: tag, refresh_token: token })
  const expect = (condition: boolean, message: string) => {
    if (!condition) throw new Error(message)
  }

  try {
    const user = await createUser(admin, { username: tag, password, roles: [] })
    await createClient(admin, {
      id: tag,
      isPublic: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['read'],
      redirectUris: [],
    })
    await createClient(admin, {
      id: `${tag}-svc`,
      secret,
      isPublic: false,
      grantTypes: ['client_credentials'],
      scopes: [],
      redirectUris: [],
    })

    let jwksUri = ''
    await check('discovery metadata names this issuer', async () => {
      const meta = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        string
      >
      expect(meta.issuer === config.issuer, `issuer is ${meta.issuer}, expected ${config.issuer}`)
      jwksUri = meta.jwks_uri ?? ''
      return `issuer ${meta.issuer}`
    })
    let tokens: Record<string, unknown> = {}
    await check('sign-in issues an access token that verifies against the JWKS', async () => {
      const result = await signIn()
      expect(result.status === 200, `sign-in answered ${result.status} ${result.body.error ?? ''}`)
      tokens = result.body
      const { protectedHeader } = await jwtVerify(
        String(tokens.access_token),
        createRemoteJWKSet(new URL(jwksUri)),
        {
          issuer: config.issuer,
          audience: config.audience,
          typ: 'at+jwt',
          algorithms: ['ES256', 'EdDSA', 'RS256'],
        },
      )
      return `${protectedHeader.alg}, kid ${protectedHeader.kid}`
    })
    await check('20 parallel refreshes of one token produce exactly one successor', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => refresh(String(tokens.refresh_token))),
      )
      const successors = new Set(results.filter((r) => r.status === 200).map((r) => r.body.refresh_token))
      expect(successors.size === 1, `${successors.size} different successors`)
      const failures = results.filter((r) => r.status !== 200 && r.body.error !== 'invalid_grant')
      expect(failures.length === 0, `unexpected answers: ${failures.map((f) => f.status).join(', ')}`)
      const ok = results.filter((r) => r.status === 200).length
      tokens = { ...tokens, previous: tokens.refresh_token, refresh_token: [...successors][0] }
      return `${ok} answered 200 with the same successor, ${20 - ok} invalid_grant (grace ${config.refreshReuseGrace} s)`
    })
    if (config.refreshReuseGrace > 0) {
      await check('a retry within the grace window returns the current token', async () => {
        const retry = await refresh(String(tokens.previous))
        expect(
          retry.status === 200 && retry.body.refresh_token === tokens.refresh_token,
          `answered ${retry.status}`,
        )
        return 'same successor'
      })
    }
    if (!values.quick) {
      await check('a replay after the grace window revokes the whole session', async () => {
        await new Promise((r) => setTimeout(r, (config.refreshReuseGrace + 1) * 1000))
        const replay = await refresh(String(tokens.previous))
        expect(replay.body.error === 'invalid_grant', `replay answered ${replay.status}`)
        const successor = await refresh(String(tokens.refresh_token))
        expect(successor.body.error === 'invalid_grant', `the successor still works (${successor.status})`)
        return 'replay refused, successor revoked'
      })
    }
    await check('revocation and introspection agree', async () => {
      const fresh = (await signIn()).body
      const before = await post(
        '/oauth/introspect',
        { token: String(fresh.refresh_token) },
        { authorization: basic },
      )
      expect(before.body.active === true, 'a fresh refresh token is not active')
      await post('/oauth/revoke', { token: String(fresh.refresh_token), client_id: tag })
      const after = await post(
        '/oauth/introspect',
        { token: String(fresh.access_token) },
        { authorization: basic },
      )
      expect(after.body.active === false, 'the access token of a revoked session is still active')
      return 'revoked session refused at once'
    })
    await admin.store.disableUser(user.id, Date.now())
  } finally {
    await admin.store.close()
  }

  const passed = checks.every((c) => c.ok)
  if (values.json) io.stdout(JSON.stringify({ url: base, passed, checks }))
  else {
    io.stdout(`tessera doctor — ${base}`)
    for (const c of checks) io.stdout(`  ${c.ok ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}`)
    io.stdout(passed ? 'all checks passed' : 'some checks failed')
    io.stdout(`(throwaway user and clients: ${tag}, ${tag}-svc; the user is disabled)`)
  }
  return passed
}
