import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser, rotateSigningKey } from '../../src/admin.js'
import { DIALECTS } from '../support/dialects.js'
import { basic, PASSWORD, SVC_SECRET, startTestServer, type TestServer } from '../support/server.js'
import { jwtClaims, proofRuns, proofSeed } from './proof-settings.js'

/*
 * SPEC §6 as a reference model. Each session is a chain of generations; token g of a session
 * was rotated at rotatedAt[g]. Presenting token g:
 *   - g is current, right client, session live           → rotation: 200 with token g+1
 *   - wrong client, dead session, or unknown generation  → invalid_grant, nothing changes
 *   - g rotated less than `grace` ago and at most two generations back → 200 with the current token
 *   - otherwise                                          → reuse: invalid_grant, the session is revoked
 * The model keeps every rotation time (not the server's two slots), so it is an independent oracle.
 */

interface ModelSession {
  id: string
  user: number
  tokens: string[]
  rotatedAt: number[]
  idleExpiresAt: number
  absoluteExpiresAt: number
  revoked: boolean
}

interface ModelAccessToken {
  token: string
  sessionId: string
  exp: number
  denied: boolean
}

interface Model {
  now: number
  sessions: ModelSession[]
  accessTokens: ModelAccessToken[]
  disabled: boolean[]
  counts: Record<string, number>
}

interface Real {
  server: TestServer
  users: { id: string; username: string }[]
  ip: string
}

type Outcome = { kind: 'token'; generation: number } | { kind: 'invalid_grant' }

const GRACE = 10
const IDLE_TTL = 3 * 3600
const ABSOLUTE_TTL = 2 * 86_400

const generation = (s: ModelSession) => s.tokens.length - 1
const isLive = (s: ModelSession, now: number) =>
  !s.revoked && s.idleExpiresAt > now && s.absoluteExpiresAt > now

function predictRefresh(m: Model, s: ModelSession, presented: number, rightClient: boolean): Outcome {
  const current = generation(s)
  if (rightClient && isLive(s, m.now) && presented === current) {
    s.rotatedAt[presented] = m.now
    s.idleExpiresAt = Math.min(s.absoluteExpiresAt, m.now + IDLE_TTL * 1000)
    return { kind: 'token', generation: current + 1 }
  }
  if (!rightClient || !isLive(s, m.now) || presented >= current) return { kind: 'invalid_grant' }
  const rotated = s.rotatedAt[presented]!
  if (current - presented <= 2 && m.now - rotated < GRACE * 1000)
    return { kind: 'token', generation: current }
  s.revoked = true
  return { kind: 'invalid_grant' }
}

/** What introspection and `/me` must say of an access token right now (jose allows 5 s of skew). */
function accessTokenActive(m: Model, t: ModelAccessToken): boolean {
  const session = m.sessions.find((s) => s.id === t.sessionId)!
  return !t.denied && !session.revoked && t.exp > Math.floor(m.now / 1000) - 5
}

const count = (m: Model, what: string) => {
  m.counts[what] = (m.counts[what] ?? 0) + 1
}

async function post(
  r: Real,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const response = await r.server.app.inject({
    method: 'POST',
    url,
    remoteAddress: r.ip,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(form).toString(),
  })
  return { status: response.statusCode, body: response.json() as Record<string, string> }
}

function recordAccessToken(m: Model, token: string, sessionId: string) {
  const claims = jwtClaims(token)
  expect(claims.sid).toBe(sessionId)
  m.accessTokens.push({ token, sessionId, exp: claims.exp, denied: false })
}

async function presentRefreshToken(
  m: Model,
  r: Real,
  s: ModelSession,
  presented: number,
  rightClient: boolean,
): Promise<void> {
  const token = s.tokens[presented]!
  const form = { grant_type: 'refresh_token', refresh_token: token }
  const result = rightClient
    ? await post(r, '/oauth/token', { ...form, client_id: 'web' })
    : await post(r, '/oauth/token', form, { authorization: basic('svc', SVC_SECRET) })
  const expected = predictRefresh(m, s, presented, rightClient)
  if (expected.kind === 'invalid_grant') {
    expect(result.status).toBe(400)
    expect(result.body.error).toBe('invalid_grant')
    count(m, 'invalid_grant')
    return
  }
  expect(result.status, JSON.stringify(result.body)).toBe(200)
  const returned = result.body.refresh_token!
  if (expected.generation < s.tokens.length) {
    expect(returned).toBe(s.tokens[expected.generation])
    count(m, 'grace')
  } else {
    expect(r.server.app.tessera.refreshTokens.decode(returned)).toEqual({
      sessionId: s.id,
      generation: expected.generation,
    })
    expect(m.sessions.flatMap((x) => x.tokens)).not.toContain(returned)
    s.tokens.push(returned)
    count(m, 'rotated')
  }
  recordAccessToken(m, result.body.access_token!, s.id)
}

/** After every command: the database agrees with the model on each session's generation and state. */
async function checkSessions(m: Model, r: Real): Promise<void> {
  for (const s of m.sessions) {
    const row = await r.server.app.tessera.store.findSession(s.id)
    expect(row?.generation, `generation of session ${s.id}`).toBe(generation(s))
    expect(row?.revokedAt !== null, `revoked state of session ${s.id}`).toBe(s.revoked)
  }
}

type Cmd = fc.AsyncCommand<Model, Real>

const pick = <T>(items: T[], i: number): T | undefined =>
  items.length === 0 ? undefined : items[i % items.length]
const rotatedSessions = (m: Model) => m.sessions.filter((s) => s.tokens.length > 1)

class Login implements Cmd {
  constructor(readonly user: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    const { username, id } = r.users[this.user]!
    const result = await post(r, '/oauth/token', {
      grant_type: 'password',
      client_id: 'web',
      username,
      password: PASSWORD,
    })
    if (m.disabled[this.user]) {
      expect([400, 429]).toContain(result.status)
      if (result.status === 400) expect(result.body.error).toBe('invalid_grant')
      return
    }
    expect(result.status).toBe(200)
    const sid = jwtClaims(result.body.access_token!).sid!
    expect(jwtClaims(result.body.access_token!).sub).toBe(id)
    m.sessions.push({
      id: sid,
      user: this.user,
      tokens: [result.body.refresh_token!],
      rotatedAt: [],
      idleExpiresAt: m.now + IDLE_TTL * 1000,
      absoluteExpiresAt: m.now + ABSOLUTE_TTL * 1000,
      revoked: false,
    })
    recordAccessToken(m, result.body.access_token!, sid)
    count(m, 'login')
    await checkSessions(m, r)
  }
  toString = () => `login(user ${this.user})`
}

class RefreshCurrent implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0
  async run(m: Model, r: Real) {
    const s = pick(m.sessions, this.i)!
    await presentRefreshToken(m, r, s, generation(s), true)
    await checkSessions(m, r)
  }
  toString = () => `refresh current token of session #${this.i}`
}

class RetryRecent implements Cmd {
  constructor(
    readonly i: number,
    readonly back: number,
    readonly after: number,
  ) {}
  check = (m: Readonly<Model>) => rotatedSessions(m as Model).length > 0
  async run(m: Model, r: Real) {
    const s = pick(rotatedSessions(m), this.i)!
    advance(m, r, this.after)
    await presentRefreshToken(m, r, s, Math.max(0, generation(s) - this.back), true)
    await checkSessions(m, r)
  }
  toString = () => `after ${this.after} s, retry token ${this.back} back of rotated session #${this.i}`
}

class ReplayAfterGrace implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => rotatedSessions(m as Model).length > 0
  async run(m: Model, r: Real) {
    const s = pick(rotatedSessions(m), this.i)!
    advance(m, r, GRACE + 1)
    await presentRefreshToken(m, r, s, generation(s) - 1, true)
    await checkSessions(m, r)
  }
  toString = () => `replay previous token of rotated session #${this.i} after grace`
}

class PresentAnyToken implements Cmd {
  constructor(
    readonly i: number,
    readonly j: number,
  ) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0
  async run(m: Model, r: Real) {
    const s = pick(m.sessions, this.i)!
    await presentRefreshToken(m, r, s, this.j % s.tokens.length, true)
    await checkSessions(m, r)
  }
  toString = () => `present token #${this.j} of session #${this.i}`
}

class WrongClient implements Cmd {
  constructor(
    readonly i: number,
    readonly j: number,
  ) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0
  async run(m: Model, r: Real) {
    const s = pick(m.sessions, this.i)!
    await presentRefreshToken(m, r, s, this.j % s.tokens.length, false)
    count(m, 'wrong_client')
    await checkSessions(m, r)
  }
  toString = () => `present token #${this.j} of session #${this.i} from the wrong client`
}

class Revoke implements Cmd {
  constructor(
    readonly i: number,
    readonly j: number,
  ) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0
  async run(m: Model, r: Real) {
    const s = pick(m.sessions, this.i)!
    const result = await post(r, '/oauth/revoke', {
      token: s.tokens[this.j % s.tokens.length]!,
      client_id: 'web',
    })
    expect(result.status).toBe(200)
    s.revoked = true
    count(m, 'revoke')
    await checkSessions(m, r)
  }
  toString = () => `revoke (RFC 7009) with token #${this.j} of session #${this.i}`
}

class LogoutAll implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.accessTokens.length > 0
  async run(m: Model, r: Real) {
    const t = pick(m.accessTokens, this.i)!
    const session = m.sessions.find((s) => s.id === t.sessionId)!
    const response = await r.server.app.inject({
      method: 'POST',
      url: '/logout/all',
      remoteAddress: r.ip,
      headers: { authorization: `Bearer ${t.token}` },
    })
    if (!accessTokenActive(m, t)) {
      expect(response.statusCode).toBe(401)
      expect(response.headers['www-authenticate']).toContain('invalid_token')
      count(m, 'logout_all_refused')
      return
    }
    expect(response.statusCode).toBe(200)
    const mine = m.sessions.filter((s) => s.user === session.user && !s.revoked)
    expect(response.json()).toEqual({ revoked: mine.length })
    for (const s of mine) s.revoked = true
    t.denied = true
    count(m, 'logout_all')
    await checkSessions(m, r)
  }
  toString = () => `logout everywhere with access token #${this.i}`
}

class DisableUser implements Cmd {
  constructor(readonly user: number) {}
  check = (m: Readonly<Model>) => !m.disabled[this.user]
  async run(m: Model, r: Real) {
    const revoked = await r.server.app.tessera.store.disableUser(r.users[this.user]!.id, m.now)
    const mine = m.sessions.filter((s) => s.user === this.user && !s.revoked)
    expect(revoked).toBe(mine.length)
    for (const s of mine) s.revoked = true
    m.disabled[this.user] = true
    count(m, 'disable')
    await checkSessions(m, r)
  }
  toString = () => `disable user ${this.user}`
}

class RotateKey implements Cmd {
  check = () => true
  async run(m: Model, r: Real) {
    await rotateSigningKey(r.server.admin)
    await r.server.app.tessera.keys.reload()
    count(m, 'key_rotation')
  }
  toString = () => 'rotate the signing key'
}

class Introspect implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.accessTokens.length > 0
  async run(m: Model, r: Real) {
    const t = pick(m.accessTokens, this.i)!
    const result = await post(
      r,
      '/oauth/introspect',
      { token: t.token },
      { authorization: basic('svc', SVC_SECRET) },
    )
    expect(result.status).toBe(200)
    expect(result.body.active).toBe(accessTokenActive(m, t))
    count(m, 'introspection')
  }
  toString = () => `introspect access token #${this.i}`
}

class Me implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.accessTokens.length > 0
  async run(m: Model, r: Real) {
    const t = pick(m.accessTokens, this.i)!
    const response = await r.server.app.inject({
      url: '/me',
      remoteAddress: r.ip,
      headers: { authorization: `Bearer ${t.token}` },
    })
    expect(response.statusCode).toBe(accessTokenActive(m, t) ? 200 : 401)
    count(m, 'me')
  }
  toString = () => `GET /me with access token #${this.i}`
}

function advance(m: Model, r: Real, seconds: number) {
  r.server.clock.advance(seconds)
  m.now += seconds * 1000
}

class Advance implements Cmd {
  constructor(readonly seconds: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    advance(m, r, this.seconds)
    count(m, 'clock_advance')
  }
  toString = () => `advance the clock ${this.seconds} s`
}

const index = fc.nat(50)
const USERS = 3
const weighted = <T>(weight: number, arb: fc.Arbitrary<T>) => Array.from({ length: weight }, () => arb)
const commands = fc.commands(
  [
    ...weighted(
      2,
      fc.nat(USERS - 1).map((u) => new Login(u)),
    ),
    ...weighted(
      5,
      index.map((i) => new RefreshCurrent(i)),
    ),
    ...weighted(
      4,
      fc
        .tuple(index, fc.constantFrom(1, 2, 3), fc.constantFrom(0, 0, 1, GRACE - 1, GRACE))
        .map(([i, back, after]) => new RetryRecent(i, back, after)),
    ),
    index.map((i) => new ReplayAfterGrace(i)),
    fc.tuple(index, index).map(([i, j]) => new PresentAnyToken(i, j)),
    fc.tuple(index, index).map(([i, j]) => new WrongClient(i, j)),
    fc.tuple(index, index).map(([i, j]) => new Revoke(i, j)),
    index.map((i) => new LogoutAll(i)),
    fc.nat(USERS - 1).map((u) => new DisableUser(u)),
    fc.constant(new RotateKey()),
    ...weighted(
      2,
      index.map((i) => new Introspect(i)),
    ),
    ...weighted(
      2,
      index.map((i) => new Me(i)),
    ),
    ...weighted(
      2,
      fc
        .constantFrom(1, 2, 4, GRACE - 1, GRACE, GRACE + 1, 60, 600, 905, IDLE_TTL + 1)
        .map((s) => new Advance(s)),
    ),
  ],
  { maxCommands: 60, size: 'large' },
)

for (const dialect of DIALECTS) {
  describe(`the session state machine matches SPEC §6 (${dialect})`, () => {
    let server: TestServer
    let run = 0
    const totals: Record<string, number> = {}
    beforeAll(async () => {
      server = await startTestServer({
        dialect,
        config: { refreshReuseGrace: GRACE, refreshIdleTtl: IDLE_TTL, refreshAbsoluteTtl: ABSOLUTE_TTL },
      })
    })
    afterAll(async () => {
      console.info(`model (${dialect}): ${run} runs, ${JSON.stringify(totals)}`)
      await server?.close()
    })

    it('every response and every session state agrees with the reference model', async () => {
      const seed = proofSeed(`model (${dialect})`)
      await fc.assert(
        fc.asyncProperty(commands, async (cmds) => {
          run += 1
          const users = []
          for (let who = 0; who < USERS; who++) {
            const username = `user-${run}-${who}`
            const user = await createUser(server.admin, { username, password: PASSWORD, roles: ['user'] })
            users.push({ id: user.id, username })
          }
          const model: Model = {
            now: server.clock.now(),
            sessions: [],
            accessTokens: [],
            disabled: Array(USERS).fill(false),
            counts: {},
          }
          const real: Real = { server, users, ip: `10.0.${(run >> 8) & 255}.${run & 255}` }
          await new Login(0).run(model, real)
          for (let u = 1; u < USERS; u++) await new Login(u).run(model, real)
          await fc.asyncModelRun(() => ({ model, real }), cmds)
          for (const [k, v] of Object.entries(model.counts)) totals[k] = (totals[k] ?? 0) + v
        }),
        { numRuns: proofRuns(20), seed },
      )
    }, 120_000)

    it('an access token of a revoked session is refused by /me and inactive on introspection', async () => {
      const username = `revoked-${dialect}`
      await createUser(server.admin, { username, password: PASSWORD, roles: ['user'] })
      const real: Real = { server, users: [], ip: '10.1.0.1' }
      const login = await post(real, '/oauth/token', {
        grant_type: 'password',
        client_id: 'web',
        username,
        password: PASSWORD,
      })
      const bearer = { authorization: `Bearer ${login.body.access_token}` }
      expect((await server.app.inject({ url: '/me', headers: bearer })).statusCode).toBe(200)
      await post(real, '/oauth/revoke', { token: login.body.refresh_token!, client_id: 'web' })
      const me = await server.app.inject({ url: '/me', headers: bearer })
      expect(me.statusCode).toBe(401)
      expect(me.headers['www-authenticate']).toContain('error="invalid_token"')
      const seen = await post(
        real,
        '/oauth/introspect',
        { token: login.body.access_token! },
        { authorization: basic('svc', SVC_SECRET) },
      )
      expect(seen.body).toEqual({ active: false })
    })

    it('access tokens signed before a key rotation stay active until they expire, then not', async () => {
      const username = `rotation-${dialect}`
      await createUser(server.admin, { username, password: PASSWORD, roles: ['user'] })
      const real: Real = { server, users: [], ip: '10.1.0.2' }
      const form = { grant_type: 'password', client_id: 'web', username, password: PASSWORD }
      const before = (await post(real, '/oauth/token', form)).body.access_token!
      const kid = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid
      await rotateSigningKey(server.admin)
      await server.app.tessera.keys.reload()
      const after = (await post(real, '/oauth/token', form)).body.access_token!
      expect(kid(after)).not.toBe(kid(before))
      const introspect = async (token: string) =>
        (await post(real, '/oauth/introspect', { token }, { authorization: basic('svc', SVC_SECRET) })).body
          .active
      expect(await introspect(before)).toBe(true)
      server.clock.advance(server.config.accessTokenTtl - 10)
      await server.app.tessera.keys.reload()
      expect(await introspect(before)).toBe(true)
      server.clock.advance(20)
      await server.app.tessera.keys.reload()
      expect(await introspect(before)).toBe(false)
    })
  })
}
