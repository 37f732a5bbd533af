import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as guard from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const documented = new Map(
  [...readme.matchAll(/^\|\s*`(\w+Error)`\s*\|\s*`(\w+)`\s*\|\s*(\d{3})\s*\|/gm)].map(
    ([, name, code, status]) => [name, { code, status: Number(status) }],
  ),
)

const errorClasses = Object.entries(guard as Record<string, unknown>).filter(
  (entry): entry is [string, new () => guard.GuardError] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof guard.GuardError,
)

describe('exported errors', () => {
  it('exports the documented error classes and no others', () => {
    expect(errorClasses.map(([name]) => name).sort()).toEqual([...documented.keys()].sort())
  })

  it.each(errorClasses)('%s carries its documented code and status', (name, ErrorClass) => {
    const error = new ErrorClass()
    expect(error).toBeInstanceOf(guard.GuardError)
    expect(error.name).toBe(name)
    expect({ code: error.code, status: error.status }).toEqual(documented.get(name))
    expect(guard.isGuardError(error)).toBe(true)
  })

  it('recognises a guard error from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { code: 'invalid_token', status: 401, reason: 'expired' })
    expect(guard.isGuardError(foreign)).toBe(true)
    expect(guard.isGuardError({ code: 'invalid_token' })).toBe(false)
  })

  it('maps every error to its rfc 6750 answer', () => {
    const response = guard.toErrorResponse(
      new guard.InsufficientScopeError('missing_scope', ['a', 'b']),
      'r"x',
    )
    expect(response).toEqual({
      status: 403,
      headers: {
        'cache-control': 'no-store',
        'www-authenticate': 'Bearer realm="r\\"x", error="insufficient_scope", scope="a b"',
      },
      body: {
        error: 'insufficient_scope',
        error_description: 'The access token does not grant access to this resource',
      },
    })
  })
})

describe('public surface', () => {
  it('documents every exported function with a summary and an example', async () => {
    const modules = [
      guard,
      await import('../src/fastify.js'),
      await import('../src/express.js'),
      await import('../src/hono.js'),
    ]
    const names = new Set(
      modules.flatMap((module) =>
        Object.entries(module)
          .filter(
            ([name, value]) => typeof value === 'function' && name !== 'default' && !/^[A-Z]/.test(name),
          )
          .map(([name]) => name),
      ),
    )
    const sources = [
      'basic-auth',
      'verify',
      'authenticate',
      'challenge',
      'errors',
      'roles',
      'fastify',
      'express',
      'hono',
    ]
      .map((file) => readFileSync(new URL(`../src/${file}.ts`, import.meta.url), 'utf8'))
      .join('\n')
    expect(names.size).toBeGreaterThanOrEqual(10)
    for (const name of names) {
      const doc = new RegExp(
        `/\\*\\*\\n \\* [^\\n]+\\n(?: \\*[^\\n]*\\n)*? \\* @example(?:(?!\\*/)[\\s\\S])*\\*/\\nexport (?:async function|function|const) ${name}\\b`,
      )
      expect(sources, `${name} needs TSDoc with @example`).toMatch(doc)
    }
  })
})
