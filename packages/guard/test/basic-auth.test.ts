import { describe, expect, it } from 'vitest'
import { createBasicAuth, GuardError, hashBasicCredential, parseBasicAuthorization } from '../src/index.js'

const header = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`
const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error as GuardError).reason,
  )

describe('hashBasicCredential', () => {
  it('produces a salted scrypt string that differs every time', async () => {
    const first = await hashBasicCredential('secret')
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await hashBasicCredential('secret')).not.toBe(first)
  })
})

describe('parseBasicAuthorization', () => {
  it('splits at the first colon so passwords may contain colons (rfc 7617 §2)', () => {
    expect(parseBasicAuthorization(header('user:pa:ss'))).toEqual({ username: 'user', password: 'pa:ss' })
  })

  it('decodes utf-8 and accepts the scheme in any case', () => {
    expect(parseBasicAuthorization(`bAsIc ${Buffer.from('zoë:pässwörd').toString('base64')}`)).toEqual({
      username: 'zoë',
      password: 'pässwörd',
    })
  })

  it('returns undefined for another scheme', () => {
    expect(parseBasicAuthorization('Bearer abc')).toBeUndefined()
    expect(parseBasicAuthorization(undefined)).toBeUndefined()
  })

  it.each([
    ['no colon', header('user')],
    ['bad base64', 'Basic !!!!'],
    ['a control character', header('user:pa\nss')],
    ['invalid utf-8', `Basic ${Buffer.from([0x75, 0x3a, 0xff, 0xfe]).toString('base64')}`],
    ['no credentials', 'Basic'],
  ])('refuses %s', (_name, value) => {
    expect(() => parseBasicAuthorization(value)).toThrow(GuardError)
  })
})

describe('createBasicAuth', () => {
  it('accepts the right password and refuses a wrong one or an unknown user', async () => {
    const basic = createBasicAuth({ credentials: { billing: await hashBasicCredential('pa:ss') } })
    await expect(basic.verify(header('billing:pa:ss'))).resolves.toMatchObject({
      type: 'basic',
      sub: 'billing',
    })
    expect(await reasonOf(basic.verify(header('billing:nope')))).toBe('wrong_password')
    expect(await reasonOf(basic.verify(header('mallory:pa:ss')))).toBe('unknown_user')
    expect(await reasonOf(basic.verify(undefined))).toBe('missing_credentials')
  })

  it('looks users up through a function', async () => {
    const stored = await hashBasicCredential('s3cret')
    const basic = createBasicAuth({
      credentials: async (user) => (user === 'svc' ? stored : undefined),
      cacheTtl: 0,
    })
    await expect(basic.verify(header('svc:s3cret'))).resolves.toMatchObject({ sub: 'svc' })
  })

  it('does not treat inherited object keys as users', async () => {
    const basic = createBasicAuth({ credentials: {} })
    expect(await reasonOf(basic.verify(header('constructor:x')))).toBe('unknown_user')
  })

  it('throws a TypeError for a plain-text password in credentials', () => {
    expect(() => createBasicAuth({ credentials: { svc: 'hunter2' } })).toThrow(TypeError)
  })

  it('errors carry code invalid_credentials and status 401', async () => {
    const basic = createBasicAuth({ credentials: {} })
    const error = await basic.verify(header('a:b')).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'invalid_credentials', status: 401 })
  })
})
