import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { exportJWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tesseraGuard } from '../src/fastify.js'
import { createVerifier, GuardError, type Verifier } from '../src/index.js'
import { compact, FakeIssuer, type SigningKey } from './support/fake-issuer.js'

const JWKS = '/.well-known/jwks.json'

let issuer: FakeIssuer
let verifier: Verifier
let app: FastifyInstance
let ed: SigningKey
let es: SigningKey
let rs: SigningKey

beforeAll(async () => {
  issuer = await FakeIssuer.start(['EdDSA', 'ES256', 'RS256'])
  ;[ed, es, rs] = issuer.keys as [SigningKey, SigningKey, SigningKey]
  verifier = createVerifier({ issuer: issuer.url, audience: issuer.audience })
  app = Fastify()
  await app.register(tesseraGuard, { verifier, onFailure: () => {} })
  app.get('/orders', { config: { auth: true } }, () => ({ ok: true }))
  await app.ready()
  await verifier.verify(await issuer.mint())
})
afterAll(async () => {
  await app.close()
  await issuer.close()
})

function sign(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  sign: (input: string) => Buffer,
) {
  const unsigned = compact(header, payload, Buffer.alloc(0)).slice(0, -1)
  return `${unsigned}.${sign(unsigned).toString('base64url')}`
}

async function expectRefused(token: string, reason: string, target: Verifier = verifier): Promise<void> {
  const error = await target.verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(GuardError)
  expect(error).toMatchObject({ code: 'invalid_token', status: 401, reason })
  if (target !== verifier) return
  const response = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${token}` } })
  expect(response.statusCode).toBe(401)
  expect(response.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"')
  expect(response.json()).toEqual({
    error: 'invalid_token',
    error_description: 'The access token is invalid',
  })
}

describe('forged and broken tokens all answer 401 invalid_token', () => {
  it('refuses alg none with an empty signature', async () => {
    const token = `${compact({ alg: 'none', typ: 'at+jwt', kid: ed.kid }, issuer.claims(), Buffer.alloc(0)).slice(0, -1)}`
    await expectRefused(`${token}.`, 'malformed')
  })

  it('refuses alg none with any signature', async () => {
    await expectRefused(
      compact({ alg: 'none', typ: 'at+jwt', kid: ed.kid }, issuer.claims(), Buffer.from('x')),
      'unsupported_alg',
    )
  })

  it('refuses hs256 signed with the rsa public key as pem bytes', async () => {
    const pem = createPublicKey({ key: rs.publicJwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    })
    const token = sign({ alg: 'HS256', typ: 'at+jwt', kid: rs.kid }, issuer.claims(), (input) =>
      createHmac('sha256', pem).update(input).digest(),
    )
    await expectRefused(token, 'unsupported_alg')
  })

  it('refuses hs256 signed with the public key even when hs256 is enabled', async () => {
    const pem = createPublicKey({ key: rs.publicJwk as never, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    })
    const lenient = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      algorithms: ['RS256', 'HS256'],
      keys: [rs.publicJwk],
      logger: { warn: () => {} },
    })
    const asPem = sign({ alg: 'HS256', typ: 'at+jwt', kid: rs.kid }, issuer.claims(), (input) =>
      createHmac('sha256', pem).update(input).digest(),
    )
    const asJwk = sign({ alg: 'HS256', typ: 'at+jwt', kid: rs.kid }, issuer.claims(), (input) =>
      createHmac('sha256', JSON.stringify(rs.publicJwk)).update(input).digest(),
    )
    await expectRefused(asPem, 'unknown_kid', lenient)
    await expectRefused(asJwk, 'unknown_kid', lenient)
  })

  it('refuses hs256 signed with the public jwk as the secret', async () => {
    const token = sign({ alg: 'HS256', typ: 'at+jwt', kid: ed.kid }, issuer.claims(), (input) =>
      createHmac('sha256', Buffer.from(ed.publicJwk.x as string, 'base64url'))
        .update(input)
        .digest(),
    )
    await expectRefused(token, 'unsupported_alg')
  })

  it('refuses a token signed by a stranger under a known kid', async () => {
    const stranger = generateKeyPairSync('ed25519')
    const token = await new SignJWT(issuer.claims())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: ed.kid })
      .sign(stranger.privateKey)
    await expectRefused(token, 'bad_signature')
  })

  it('refuses a token whose payload was edited after signing', async () => {
    const [header, , signature] = (await issuer.mint()).split('.')
    const payload = Buffer.from(JSON.stringify(issuer.claims({ scope: 'admin' }))).toString('base64url')
    await expectRefused(`${header}.${payload}.${signature}`, 'bad_signature')
  })

  it('refuses an unknown kid', async () => {
    const stranger = generateKeyPairSync('ed25519')
    const token = await new SignJWT(issuer.claims())
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'no-such-key' })
      .sign(stranger.privateKey)
    await expectRefused(token, 'unknown_kid')
  })

  it.each(['../../../../../dev/null', "' OR '1'='1", 'https://evil.test/key.pem'])(
    'refuses an injected kid %s',
    async (kid) => {
      const token = await new SignJWT(issuer.claims())
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .sign(ed.privateKey)
      await expectRefused(token, 'unknown_kid')
    },
  )

  it.each(['jwk', 'jku', 'x5u', 'x5c'])(
    'refuses a header-supplied %s even with a valid signature',
    async (name) => {
      const attacker = generateKeyPairSync('ed25519')
      const values: Record<string, unknown> = {
        jwk: await exportJWK(attacker.publicKey),
        jku: 'https://evil.test/jwks.json',
        x5u: 'https://evil.test/cert.pem',
        x5c: ['MIIB'],
      }
      const token = await issuer.mint({}, { header: { [name]: values[name] } })
      await expectRefused(token, 'forbidden_header')
    },
  )

  it('refuses a crit header it cannot understand', async () => {
    const token = sign(
      { alg: 'EdDSA', typ: 'at+jwt', kid: ed.kid, crit: ['exp'], exp: 1 },
      issuer.claims(),
      () => Buffer.alloc(64),
    )
    await expectRefused(token, 'forbidden_header')
  })

  it('refuses an ecdsa signature of zeros (r = s = 0)', async () => {
    const token = compact({ alg: 'ES256', typ: 'at+jwt', kid: es.kid }, issuer.claims(), Buffer.alloc(64))
    await expectRefused(token, 'bad_signature')
  })

  it('refuses an ecdsa signature in der form', async () => {
    const token = compact({ alg: 'ES256', typ: 'at+jwt', kid: es.kid }, issuer.claims(), Buffer.alloc(70, 1))
    await expectRefused(token, 'bad_signature')
  })

  it('refuses an expired token', async () => {
    const iat = Math.floor(Date.now() / 1000) - 1000
    await expectRefused(await issuer.mint({ iat, exp: iat + 900 }), 'expired')
  })

  it('refuses a token that is not yet valid', async () => {
    await expectRefused(await issuer.mint({ nbf: Math.floor(Date.now() / 1000) + 600 }), 'not_yet_valid')
  })

  it('refuses a token issued in the future', async () => {
    await expectRefused(await issuer.mint({ iat: Math.floor(Date.now() / 1000) + 600 }), 'issued_in_future')
  })

  it('refuses a token from another issuer', async () => {
    await expectRefused(await issuer.mint({ iss: 'https://evil.test' }), 'wrong_issuer')
  })

  it('refuses a token for another audience', async () => {
    await expectRefused(await issuer.mint({ aud: 'https://other-api.test' }), 'wrong_audience')
  })

  it('refuses an opaque refresh token used as an access token', async () => {
    await expectRefused(`tsr_${randomUUID().replaceAll('-', '')}`, 'malformed')
  })

  it('refuses an id-style jwt (typ JWT) and a jwt without typ', async () => {
    await expectRefused(await issuer.mint({}, { header: { typ: 'JWT' } }), 'wrong_type')
    await expectRefused(await issuer.mint({}, { header: { typ: undefined } }), 'wrong_type')
  })

  it.each([
    ['characters outside base64url', (token: string) => token.replace('.', '*.')],
    ['padding', (token: string) => token.replace('.', '==.')],
    ['an impossible length', (token: string) => token.replace('.', 'A.')],
    ['a fourth segment', (token: string) => `${token}.AAAA`],
    ['an empty header', (token: string) => token.slice(token.indexOf('.'))],
  ])('refuses malformed base64url: %s', async (_name, damage) => {
    await expectRefused(damage(await issuer.mint()), 'malformed')
  })

  it('refuses a header that is not a json object', async () => {
    const [, payload, signature] = (await issuer.mint()).split('.')
    await expectRefused(`${Buffer.from('[1]').toString('base64url')}.${payload}.${signature}`, 'malformed')
  })

  it('refuses a 100 kb token before any decoding, fetch or crypto', async () => {
    const fresh = await FakeIssuer.start()
    try {
      const cold = createVerifier({ issuer: fresh.url, audience: fresh.audience })
      const huge = `${await fresh.mint({ padding: 'A'.repeat(100_000) })}`
      expect(huge.length).toBeGreaterThan(100_000)
      // A broken token that would fail as malformed proves the size check comes first.
      await expectRefused(`${huge}*`, 'too_large', cold)
      await expectRefused(huge, 'too_large', cold)
      expect(fresh.requests).toHaveLength(0)
    } finally {
      await fresh.close()
    }
  })

  it('fetches the jwks at most twice for 100 tokens with random kids', async () => {
    const fresh = await FakeIssuer.start()
    try {
      const cold = createVerifier({ issuer: fresh.url, audience: fresh.audience })
      const attacker = createPrivateKey(
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      )
      const tokens = await Promise.all(
        Array.from({ length: 100 }, () =>
          new SignJWT(fresh.claims())
            .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: randomUUID() })
            .sign(attacker),
        ),
      )
      for (const token of tokens) await expectRefused(token, 'unknown_kid', cold)
      expect(fresh.count(JWKS)).toBeLessThanOrEqual(2)
      expect(fresh.count(JWKS)).toBeGreaterThanOrEqual(1)
    } finally {
      await fresh.close()
    }
  })
})
