import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClient } from '../../src/admin.js'
import { DIALECTS } from '../support/dialects.js'
import { PASSWORD, postForm, startTestServer, type TestServer } from '../support/server.js'

const REDIRECT = 'http://127.0.0.1:5173/callback'

function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** A tiny cookie jar over inject(): what a browser would keep between the pages. */
class Browser {
  cookies = new Map<string, string>()
  constructor(private readonly app: FastifyInstance) {}
  #remember(headers: Record<string, unknown>) {
    const set = headers['set-cookie']
    for (const line of (Array.isArray(set) ? set : set ? [set] : []) as string[]) {
      const [pair] = line.split(';')
      const [name, ...value] = pair!.split('=')
      if (/max-age=0/i.test(line)) this.cookies.delete(name!)
      else this.cookies.set(name!, value.join('='))
    }
  }
  get cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  async get(url: string) {
    const res = await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader } })
    this.#remember(res.headers)
    return res
  }
  async post(url: string, form: Record<string, string>) {
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { cookie: this.cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    })
    this.#remember(res.headers)
    return res
  }
}

const field = (html: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&') ?? ''

for (const dialect of DIALECTS) {
  describe(`authorization code with PKCE (${dialect})`, () => {
    let server: TestServer
    let browser: Browser
    beforeEach(async () => {
      server = await startTestServer({ dialect })
      await createClient(server.admin, {
        id: 'spa',
        isPublic: true,
        grantTypes: ['authorization_code', 'refresh_token'],
        scopes: ['read', 'write'],
        redirectUris: [REDIRECT],
      })
      await createClient(server.admin, {
        id: 'consenting',
        isPublic: true,
        grantTypes: ['authorization_code'],
        scopes: ['read'],
        redirectUris: [REDIRECT],
        requireConsent: true,
      })
      browser = new Browser(server.app)
    })
    afterEach(async () => {
      await server.close()
    })

    const authorizeUrl = (params: Record<string, string>) =>
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'spa', redirect_uri: REDIRECT, state: 'xyz', ...params })}`

    async function signInAndGetCode(challenge: string, clientId = 'spa') {
      const page = await browser.get(
        authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256', client_id: clientId }),
      )
      expect(page.statusCode).toBe(200)
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'")
      expect(page.headers['content-security-policy']).not.toContain('unsafe-inline')
      const signedIn = await browser.post('/oauth/authorize', {
        request: field(page.body, 'request'),
        csrf: field(page.body, 'csrf'),
        step: 'sign-in',
        username: 'alice',
        password: PASSWORD,
      })
      return signedIn
    }

    const codeFrom = (location: string) => new URL(location).searchParams

    it('signs in through the hosted page and redeems the code with the verifier', async () => {
      const { verifier, challenge } = pkce()
      const signedIn = await signInAndGetCode(challenge)
      expect(signedIn.statusCode).toBe(303)
      const params = codeFrom(signedIn.headers.location as string)
      expect(params.get('state')).toBe('xyz')
      expect(params.get('iss')).toBe(server.config.issuer)
      const token = await postForm(server.app, '/oauth/token', {
        grant_type: 'authorization_code',
        client_id: 'spa',
        code: params.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      })
      expect(token.status).toBe(200)
      expect(token.body.refresh_token).toMatch(/^tsr_/)
      expect(token.body.scope).toBe('read write')
    })

    it('a signed-in browser gets a code without seeing the page again', async () => {
      await signInAndGetCode(pkce().challenge)
      const again = await browser.get(authorizeUrl({ code_challenge: pkce().challenge }))
      expect(again.statusCode).toBe(302)
      expect(codeFrom(again.headers.location as string).get('code')).toBeTruthy()
    })

    it('a wrong password shows one error that does not reveal whether the user exists', async () => {
      const page = await browser.get(authorizeUrl({ code_challenge: pkce().challenge }))
      const wrong = await browser.post('/oauth/authorize', {
        request: field(page.body, 'request'),
        csrf: field(page.body, 'csrf'),
        step: 'sign-in',
        username: 'alice',
        password: 'wrong-password',
      })
      const unknown = await browser.post('/oauth/authorize', {
        request: field(page.body, 'request'),
        csrf: field(page.body, 'csrf'),
        step: 'sign-in',
        username: 'mallory',
        password: 'wrong-password',
      })
      expect(wrong.statusCode).toBe(401)
      expect(unknown.statusCode).toBe(401)
      const message = (body: string) => /role="alert"[^>]*>([^<]*)</.exec(body)?.[1]
      expect(message(wrong.body)).toBe('The username or password is incorrect.')
      expect(message(unknown.body)).toBe(message(wrong.body))
    })

    it('a missing or wrong verifier is refused, and so is a verifier for a code without challenge', async () => {
      const { challenge } = pkce()
      const code = codeFrom((await signInAndGetCode(challenge)).headers.location as string).get('code')!
      const missing = await postForm(server.app, '/oauth/token', {
        grant_type: 'authorization_code',
        client_id: 'spa',
        code,
        redirect_uri: REDIRECT,
      })
      expect(missing.status).toBe(400)
      expect(missing.body.error).toBe('invalid_grant')
    })

    it('a replayed code is refused and revokes the session it started', async () => {
      const { verifier, challenge } = pkce()
      const code = codeFrom((await signInAndGetCode(challenge)).headers.location as string).get('code')!
      const form = {
        grant_type: 'authorization_code',
        client_id: 'spa',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }
      const first = await postForm(server.app, '/oauth/token', form)
      expect(first.status).toBe(200)
      const replay = await postForm(server.app, '/oauth/token', form)
      expect(replay.status).toBe(400)
      expect(replay.body.error).toBe('invalid_grant')
      const refreshed = await postForm(server.app, '/oauth/token', {
        grant_type: 'refresh_token',
        client_id: 'spa',
        refresh_token: first.body.refresh_token as string,
      })
      expect(refreshed.body.error).toBe('invalid_grant')
    })

    it('a tampered redirect_uri is shown an error page and never redirected to', async () => {
      const res = await browser.get(
        authorizeUrl({ redirect_uri: 'https://evil.example/callback', code_challenge: pkce().challenge }),
      )
      expect(res.statusCode).toBe(400)
      expect(res.headers.location).toBeUndefined()
      expect(res.body).toContain('Invalid redirect address')
      const unknown = await browser.get(authorizeUrl({ client_id: 'nope' }))
      expect(unknown.statusCode).toBe(400)
      expect(unknown.headers.location).toBeUndefined()
    })

    it('a code redeemed with another redirect_uri is invalid_grant', async () => {
      const { verifier, challenge } = pkce()
      const code = codeFrom((await signInAndGetCode(challenge)).headers.location as string).get('code')!
      const res = await postForm(server.app, '/oauth/token', {
        grant_type: 'authorization_code',
        client_id: 'spa',
        code,
        redirect_uri: 'http://127.0.0.1:5173/other',
        code_verifier: verifier,
      })
      expect(res.body.error).toBe('invalid_grant')
    })

    it('errors the client can handle are redirected to it with state: plain PKCE, no PKCE, bad scope', async () => {
      const plain = await browser.get(
        authorizeUrl({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }),
      )
      expect(plain.statusCode).toBe(302)
      expect(codeFrom(plain.headers.location as string).get('error')).toBe('invalid_request')
      expect(codeFrom(plain.headers.location as string).get('state')).toBe('xyz')
      const none = await browser.get(authorizeUrl({}))
      expect(codeFrom(none.headers.location as string).get('error')).toBe('invalid_request')
      const scope = await browser.get(authorizeUrl({ code_challenge: pkce().challenge, scope: 'admin' }))
      expect(codeFrom(scope.headers.location as string).get('error')).toBe('invalid_scope')
      const type = await browser.get(
        authorizeUrl({ response_type: 'token', code_challenge: pkce().challenge }),
      )
      expect(codeFrom(type.headers.location as string).get('error')).toBe('unsupported_response_type')
    })

    it('codes expire after about a minute', async () => {
      const { verifier, challenge } = pkce()
      const code = codeFrom((await signInAndGetCode(challenge)).headers.location as string).get('code')!
      server.clock.advance(61)
      const res = await postForm(server.app, '/oauth/token', {
        grant_type: 'authorization_code',
        client_id: 'spa',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      })
      expect(res.body.error).toBe('invalid_grant')
    })

    it('a form posted without its CSRF token is refused', async () => {
      const page = await browser.get(authorizeUrl({ code_challenge: pkce().challenge }))
      const res = await browser.post('/oauth/authorize', {
        request: field(page.body, 'request'),
        step: 'sign-in',
        username: 'alice',
        password: PASSWORD,
      })
      expect(res.statusCode).toBe(403)
      expect(res.headers.location).toBeUndefined()
    })

    it('a client that requires consent lists the scopes in words, and deny returns access_denied', async () => {
      const signedIn = await signInAndGetCode(pkce().challenge, 'consenting')
      expect(signedIn.statusCode).toBe(200)
      expect(signedIn.body).toContain('Read your data')
      const denied = await browser.post('/oauth/authorize', {
        request: field(signedIn.body, 'request'),
        csrf: field(signedIn.body, 'csrf'),
        step: 'consent',
        decision: 'deny',
      })
      expect(denied.statusCode).toBe(303)
      expect(codeFrom(denied.headers.location as string).get('error')).toBe('access_denied')
    })

    it('the sign-in page counts toward the brute-force limit of the password grant', async () => {
      for (let i = 0; i < server.config.loginMaxFailures; i++) {
        await postForm(server.app, '/oauth/token', {
          grant_type: 'password',
          client_id: 'web',
          username: 'alice',
          password: `bad-${i}`,
        })
      }
      const res = await signInAndGetCode(pkce().challenge)
      expect(res.statusCode).toBe(429)
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    })

    it('the discovery document advertises the code flow with S256', async () => {
      const meta = (await server.app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
      expect(meta.authorization_endpoint).toBe(`${server.config.issuer}/oauth/authorize`)
      expect(meta.code_challenge_methods_supported).toEqual(['S256'])
      expect(meta.grant_types_supported).toContain('authorization_code')
      expect(meta.response_types_supported).toEqual(['code'])
    })
  })
}
