import { afterEach, describe, expect, it } from 'vitest'
import {
  ConfigError,
  DEFAULT_SIGNING_ALG,
  decodeSecretKey,
  loadConfig,
  unsafeSettings,
} from '../src/config.js'
import { PASSWORD, startTestServer, type TestServer } from './support/server.js'

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('configuration defaults, SPEC §4', () => {
  it('every variable is optional and has the documented default', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      databaseUrl: 'sqlite:./.tessera/tessera.db',
      redisUrl: undefined,
      redisPrefix: 'tessera:',
      issuer: 'http://127.0.0.1:8080',
      audience: 'http://127.0.0.1:8080',
      loginMaxFailures: 10,
      accessTokenTtl: 900,
      refreshIdleTtl: 1_209_600,
      refreshAbsoluteTtl: 7_776_000,
      refreshReuseGrace: 10,
      trustProxy: undefined,
      secretKey: undefined,
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'info',
    })
    expect(['EdDSA', 'ES256']).toContain(config.signingAlg)
    expect(config.signingAlg).toBe(DEFAULT_SIGNING_ALG)
  })

  it('the issuer follows PORT, and the audience follows the issuer', () => {
    expect(loadConfig({ PORT: '9000' })).toMatchObject({ port: 9000, issuer: 'http://127.0.0.1:9000' })
    const behindBalancer = loadConfig({ TESSERA_ISSUER: 'https://auth.example.com/' })
    expect(behindBalancer.issuer).toBe('https://auth.example.com')
    expect(behindBalancer.audience).toBe('https://auth.example.com')
    expect(loadConfig({ TESSERA_AUDIENCE: 'https://api.example.com' }).audience).toBe(
      'https://api.example.com',
    )
  })

  it('reads every variable', () => {
    const config = loadConfig({
      TESSERA_DATABASE_URL: 'postgresql://tessera@db.internal/tessera',
      TESSERA_REDIS_URL: 'rediss://cache.internal:6380',
      TESSERA_REDIS_PREFIX: 'auth:',
      TESSERA_LOGIN_MAX_FAILURES: '5',
      TESSERA_ACCESS_TOKEN_TTL: '300',
      TESSERA_REFRESH_IDLE_TTL: '3600',
      TESSERA_REFRESH_ABSOLUTE_TTL: '86400',
      TESSERA_REFRESH_REUSE_GRACE: '0',
      TESSERA_SIGNING_ALG: 'RS256',
      TESSERA_LOG_LEVEL: 'debug',
    })
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://tessera@db.internal/tessera',
      redisUrl: 'rediss://cache.internal:6380',
      redisPrefix: 'auth:',
      loginMaxFailures: 5,
      accessTokenTtl: 300,
      refreshIdleTtl: 3600,
      refreshAbsoluteTtl: 86_400,
      refreshReuseGrace: 0,
      signingAlg: 'RS256',
      logLevel: 'debug',
    })
  })

  it('an empty value counts as unset', () => {
    expect(loadConfig({ TESSERA_ACCESS_TOKEN_TTL: '', TESSERA_SIGNING_ALG: '', PORT: '' })).toMatchObject({
      accessTokenTtl: 900,
      signingAlg: DEFAULT_SIGNING_ALG,
      port: 8080,
    })
  })

  it('the configuration is frozen', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true)
    expect(Object.isFrozen(loadConfig({ TESSERA_TRUST_PROXY: '10.0.0.1' }).trustProxy)).toBe(true)
  })
})

describe('bad configuration values stop start-up with one line naming the variable', () => {
  const bad: [string, string][] = [
    ['TESSERA_DATABASE_URL', 'mysql://db/tessera'],
    ['TESSERA_REDIS_URL', 'http://cache:6379'],
    ['TESSERA_ISSUER', 'not a url'],
    ['TESSERA_ISSUER', 'ftp://auth.example.com'],
    ['TESSERA_LOGIN_MAX_FAILURES', '0'],
    ['TESSERA_LOGIN_MAX_FAILURES', 'many'],
    ['TESSERA_ACCESS_TOKEN_TTL', 'abc'],
    ['TESSERA_ACCESS_TOKEN_TTL', '0'],
    ['TESSERA_ACCESS_TOKEN_TTL', '-5'],
    ['TESSERA_ACCESS_TOKEN_TTL', '1.5'],
    ['TESSERA_ACCESS_TOKEN_TTL', '15m'],
    ['TESSERA_ACCESS_TOKEN_TTL', '1e3'],
    ['TESSERA_ACCESS_TOKEN_TTL', '99999999999999999999'],
    ['TESSERA_REFRESH_IDLE_TTL', 'two weeks'],
    ['TESSERA_REFRESH_ABSOLUTE_TTL', '0x10'],
    ['TESSERA_REFRESH_REUSE_GRACE', '-1'],
    ['TESSERA_SIGNING_ALG', 'none'],
    ['TESSERA_SIGNING_ALG', 'es256'],
    ['TESSERA_TRUST_PROXY', 'everyone'],
    ['TESSERA_SECRET_KEY', 'short'],
    ['TESSERA_LOG_LEVEL', 'loud'],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['TESSERA_DATABASE_POOL_SIZE', '0'],
  ]
  for (const [name, value] of bad) {
    it(`${name}=${value}`, () => {
      const error = configError({ [name]: value })
      expect(error.message).toContain(name)
      expect(error.message).not.toContain('\n')
    })
  }

  it('an idle lifetime longer than the absolute lifetime names both variables', () => {
    const error = configError({ TESSERA_REFRESH_IDLE_TTL: '100', TESSERA_REFRESH_ABSOLUTE_TTL: '50' })
    expect(error.message).toMatch(/TESSERA_REFRESH_IDLE_TTL.*TESSERA_REFRESH_ABSOLUTE_TTL/)
  })

  it('the message never repeats a database or Redis password', () => {
    const database = configError({ TESSERA_DATABASE_URL: 'mysql://admin:hunter2secret@db/tessera' })
    expect(database.message).not.toContain('hunter2secret')
    const redis = configError({ TESSERA_REDIS_URL: 'http://:hunter2secret@cache:6379' })
    expect(redis.message).not.toContain('hunter2secret')
  })
})

describe('TESSERA_SECRET_KEY', () => {
  const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7))

  it('accepts 32 bytes as hex (either case) or base64url (with or without padding)', () => {
    expect(decodeSecretKey(bytes.toString('hex'))).toEqual(bytes)
    expect(decodeSecretKey(bytes.toString('hex').toUpperCase())).toEqual(bytes)
    expect(decodeSecretKey(bytes.toString('base64url'))).toEqual(bytes)
    expect(decodeSecretKey(`${bytes.toString('base64url')}=`)).toEqual(bytes)
    expect(decodeSecretKey(`  ${bytes.toString('hex')}\n`)).toEqual(bytes)
    expect(loadConfig({ TESSERA_SECRET_KEY: bytes.toString('base64url') }).secretKey).toBe(
      bytes.toString('base64url'),
    )
  })

  it('refuses other lengths and encodings without echoing the value', () => {
    for (const value of [
      Buffer.alloc(16, 1).toString('hex'),
      Buffer.alloc(31, 1).toString('base64url'),
      Buffer.alloc(33, 1).toString('hex'),
      `${bytes.toString('hex').slice(0, 63)}g`,
      Buffer.from(Array.from({ length: 32 }, () => 0xfb)).toString('base64'),
    ]) {
      const error = configError({ TESSERA_SECRET_KEY: value })
      expect(error.message).toContain('TESSERA_SECRET_KEY')
      expect(error.message).not.toContain(value)
    }
  })
})

describe('TESSERA_TRUST_PROXY', () => {
  it('is unset by default: X-Forwarded-For is ignored', () => {
    expect(loadConfig({}).trustProxy).toBeUndefined()
    expect(loadConfig({ TESSERA_TRUST_PROXY: ' ' }).trustProxy).toBeUndefined()
  })

  it('parses a comma-separated list of addresses and CIDRs, IPv4 and IPv6', () => {
    expect(loadConfig({ TESSERA_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1,fd00::/8' }).trustProxy).toEqual([
      '10.0.0.1',
      '192.168.0.0/16',
      '::1',
      'fd00::/8',
    ])
  })

  it('refuses names, bad prefixes and stray slashes', () => {
    for (const value of [
      'proxy.internal',
      '10.0.0.0/33',
      '::1/129',
      '10.0.0.1/8/9',
      '10.0.0.0/x',
      '300.1.1.1',
    ]) {
      expect(configError({ TESSERA_TRUST_PROXY: value }).message).toContain('TESSERA_TRUST_PROXY')
    }
  })

  describe('the client address stored on a session', () => {
    let server: TestServer | undefined
    afterEach(async () => {
      await server?.close()
      server = undefined
    })

    async function sessionIp(remoteAddress: string, forwardedFor?: string): Promise<string | null> {
      const response = await server!.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
        },
        payload: new URLSearchParams({
          grant_type: 'password',
          client_id: 'web',
          username: 'alice',
          password: PASSWORD,
        }).toString(),
      })
      expect(response.statusCode).toBe(200)
      const { access_token } = response.json() as { access_token: string }
      const sid = JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).sid as string
      return (await server!.app.tessera.store.findSession(sid))?.ip ?? null
    }

    it('without TESSERA_TRUST_PROXY, X-Forwarded-For is ignored', async () => {
      server = await startTestServer()
      expect(await sessionIp('10.0.0.1', '203.0.113.7')).toBe('10.0.0.1')
    })

    it('from a trusted proxy, the forwarded client address is used', async () => {
      server = await startTestServer({ config: { trustProxy: ['10.0.0.1'] } })
      expect(await sessionIp('10.0.0.1', '203.0.113.7')).toBe('203.0.113.7')
    })

    it('from an address that is not a trusted proxy, X-Forwarded-For is ignored', async () => {
      server = await startTestServer({ config: { trustProxy: ['10.0.0.1'] } })
      expect(await sessionIp('10.0.0.2', '203.0.113.7')).toBe('10.0.0.2')
    })

    it('a CIDR trusts every proxy inside it', async () => {
      const { trustProxy } = loadConfig({ TESSERA_TRUST_PROXY: '10.0.0.0/8' })
      server = await startTestServer({ config: { trustProxy } })
      expect(await sessionIp('10.200.3.4', '203.0.113.7')).toBe('203.0.113.7')
      expect(await sessionIp('11.0.0.1', '203.0.113.7')).toBe('11.0.0.1')
    })

    it('a spoofed entry the client put in front of the chain is not believed', async () => {
      server = await startTestServer({ config: { trustProxy: ['10.0.0.1'] } })
      expect(await sessionIp('10.0.0.1', '198.51.100.1, 203.0.113.7')).toBe('203.0.113.7')
    })
  })
})

describe('unsafe settings', () => {
  it('are legal but each warns once: HS256, long access tokens, long grace, a non-https public issuer', () => {
    expect(unsafeSettings(loadConfig({}))).toEqual([])
    const warnings = unsafeSettings(
      loadConfig({
        TESSERA_SIGNING_ALG: 'HS256',
        TESSERA_ACCESS_TOKEN_TTL: '86400',
        TESSERA_REFRESH_REUSE_GRACE: '120',
        TESSERA_ISSUER: 'http://auth.example.com',
      }),
    )
    expect(warnings).toHaveLength(4)
    const names = [
      'TESSERA_SIGNING_ALG',
      'TESSERA_ACCESS_TOKEN_TTL',
      'TESSERA_REFRESH_REUSE_GRACE',
      'TESSERA_ISSUER',
    ]
    for (const [i, name] of names.entries()) expect(warnings[i]).toContain(name)
  })
})
