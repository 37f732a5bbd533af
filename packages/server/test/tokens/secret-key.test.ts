import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { decodeSecretKey, loadConfig } from '../../src/config.js'
import { createStore } from '../../src/store/kysely-store.js'
import { login, startTestServer } from '../support/server.js'

function logCapture() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: { level: 'warn', stream } }
}

describe('TESSERA_SECRET_KEY unset', () => {
  it('is generated into the data directory on first start, with a warning, and kept for the next start', async () => {
    const first = logCapture()
    const server = await startTestServer({
      config: { secretKey: undefined },
      build: { logger: first.logger },
    })
    try {
      const path = join(server.config.dataDir, 'secret.key')
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(decodeSecretKey(readFileSync(path, 'utf8'))).toHaveLength(32)
      const warnings = first.lines.filter((line) => String(line.msg).includes('TESSERA_SECRET_KEY'))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]?.level).toBe(40)
      expect(JSON.stringify(first.lines)).not.toContain(readFileSync(path, 'utf8').trim())

      const { access_token } = await login(server)
      const again = logCapture()
      const config = loadConfig({}, { ...server.config })
      const store = createStore(config.databaseUrl)
      const restarted = await buildApp(config, { logger: again.logger, store })
      try {
        const me = await restarted.inject({
          url: '/me',
          headers: { authorization: `Bearer ${access_token}` },
        })
        expect(me.statusCode).toBe(200)
        expect(again.lines.filter((line) => String(line.msg).includes('TESSERA_SECRET_KEY'))).toEqual([])
      } finally {
        await restarted.close()
        await store.close()
      }
    } finally {
      await server.close()
    }
  })
})

describe('unsafe settings at start-up', () => {
  it('each is warned about once, by name', async () => {
    const capture = logCapture()
    const server = await startTestServer({
      config: { signingAlg: 'HS256', accessTokenTtl: 7200 },
      build: { logger: capture.logger },
    })
    try {
      await server.app.inject({ url: '/healthz' })
      const messages = capture.lines.filter((line) => line.level === 40).map((line) => String(line.msg))
      expect(messages.filter((m) => m.startsWith('TESSERA_SIGNING_ALG=HS256'))).toHaveLength(1)
      expect(messages.filter((m) => m.startsWith('TESSERA_ACCESS_TOKEN_TTL=7200'))).toHaveLength(1)
    } finally {
      await server.close()
    }
  })
})
