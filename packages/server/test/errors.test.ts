import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as errors from '../src/errors.js'
import { OAuthError } from '../src/errors.js'
import { startTestServer } from './support/server.js'

const DOC = new URL('../../../docs/errors.md', import.meta.url)

type ErrorClass = new (...args: never[]) => OAuthError

interface Row {
  error: string
  status: number
  when: string
}

/** The table of docs/errors.md, by class name: | `Class` | `code` | status | when | */
function documentedRows(): Map<string, Row> {
  const rows = new Map<string, Row>()
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim())
    const match = /^`(\w+)`$/.exec(cells[1] ?? '')
    if (!match || cells.length < 6) continue
    rows.set(match[1]!, {
      error: (cells[2] ?? '').replace(/`/g, ''),
      status: Number(cells[3]),
      when: cells[4] ?? '',
    })
  }
  return rows
}

const exportedClasses = Object.entries(errors).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof OAuthError,
)

const instantiate = (Class: ErrorClass): OAuthError =>
  new (Class as unknown as new (message: string, extra: number) => OAuthError)('described', 7)

describe('error classes and docs/errors.md', () => {
  const rows = documentedRows()

  it('the walk finds the error classes', () => {
    expect(exportedClasses.length).toBeGreaterThanOrEqual(16)
    expect(rows.size).toBeGreaterThanOrEqual(16)
  })

  for (const [name, Class] of exportedClasses) {
    it(`${name}: its code and status match its documentation row`, () => {
      const error = instantiate(Class)
      const row = rows.get(name)
      expect(row, `docs/errors.md has no row for ${name}`).toBeDefined()
      expect(error.error).toBe(row!.error)
      expect(error.status).toBe(row!.status)
      expect(row!.when.length).toBeGreaterThan(20)
      expect(error.error).toMatch(/^[a-z_]+$/)
      expect(error.expose).toBe(error.status < 500)
      expect(error).toBeInstanceOf(Error)
      expect(error.error_description).toBe(error.message)
    })

    it(`${name}: the headers it sends are the ones its row names`, () => {
      const error = instantiate(Class)
      const headers = error.headers()
      const row = rows.get(name)!
      for (const [header, value] of Object.entries(headers)) {
        expect(header).toBe(header.toLowerCase())
        const named = header === 'www-authenticate' ? 'WWW-Authenticate' : 'Retry-After'
        expect(row.when, `${name} sends ${header}`).toContain(named)
        if (header === 'www-authenticate')
          expect(row.when).toContain(value.replace(/scope="[^"]*"/, 'scope="…"'))
        if (header === 'retry-after') expect(Number(value)).toBeGreaterThanOrEqual(1)
      }
      if (!('www-authenticate' in headers)) expect(row.when).not.toContain('WWW-Authenticate')
      if (!('retry-after' in headers)) expect(row.when).not.toContain('Retry-After')
    })
  }

  it('every documented class is exported, and listed in OAUTH_ERRORS', () => {
    const exported = new Set(exportedClasses.map(([name]) => name))
    for (const name of rows.keys()) expect(exported, name).toContain(name)
    expect(Object.keys(errors.OAUTH_ERRORS).sort()).toEqual([...exported].sort())
  })

  it('401 errors carry a WWW-Authenticate challenge (RFC 6749 §5.2, RFC 6750 §3)', () => {
    for (const [name, Class] of exportedClasses) {
      const error = instantiate(Class)
      if (error.status === 401) expect(error.headers(), name).toHaveProperty('www-authenticate')
    }
  })

  it('the missing-token challenge names the scheme and carries no error code', () => {
    expect(new errors.MissingToken('x').headers()).toEqual({ 'www-authenticate': 'Bearer realm="tessera"' })
  })

  it('Retry-After is a whole number of seconds, at least 1', () => {
    expect(new errors.TooManyRequests('x', 0.2).headers()).toEqual({ 'retry-after': '1' })
    expect(new errors.TooManyRequests('x', 41.3).headers()).toEqual({ 'retry-after': '42' })
  })

  it('a store failure keeps the driver error as its cause and never in its message', () => {
    const cause = new Error('connect ECONNREFUSED 10.1.2.3:5432 password=hunter2')
    const error = new errors.StoreUnavailable(cause)
    expect(error.cause).toBe(cause)
    expect(error.error_description).not.toMatch(/ECONNREFUSED|hunter2|5432/)
    expect(error).toBeInstanceOf(errors.TemporarilyUnavailable)
  })

  it('the error handler sends each class as exactly {error, error_description} with its status and headers', async () => {
    const server = await startTestServer()
    try {
      // The app is not ready until its first request, so a test route can still be added.
      server.app.get<{ Params: { name: string } }>('/test/raise/:name', async (request) => {
        const Class = exportedClasses.find(([name]) => name === request.params.name)![1]
        throw instantiate(Class)
      })
      for (const [name, Class] of exportedClasses) {
        const error = instantiate(Class)
        const response = await server.app.inject({ url: `/test/raise/${name}` })
        expect(response.statusCode, name).toBe(error.status)
        expect(response.json(), name).toEqual({
          error: error.error,
          error_description: error.error_description,
        })
        expect(response.headers['cache-control']).toBe('no-store')
        for (const [header, value] of Object.entries(error.headers()))
          expect(response.headers[header]).toBe(value)
      }
    } finally {
      await server.close()
    }
  })
})
