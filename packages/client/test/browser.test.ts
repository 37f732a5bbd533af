import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp, createUser, loadConfig, openAdmin, createClient as registerClient } from '@tessera/server'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PASSWORD } from './server.js'

const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available) {
  if (process.env.CI) throw new Error(`CI must run the browser suites: no Chromium at ${CHROMIUM}`)
  console.info(`browser suites skipped: no Chromium at ${CHROMIUM}`)
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })

const DIST = new URL('../dist/', import.meta.url)
const APP = new URL('./browser-app/', import.meta.url)

/** Serves the test app, the built client package under /client/, and its config. */
async function serveApp(port: number, host: string, config: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path === '/config.json')
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config))
    if (path === '/app.js')
      return res
        .writeHead(200, { 'content-type': 'text/javascript' })
        .end(readFileSync(new URL('app.js', APP)))
    if (path.startsWith('/client/') && /^[\w/-]+\.js$/.test(path.slice(8))) {
      const file = new URL(path.slice(8), DIST)
      if (existsSync(file))
        return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file))
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(readFileSync(new URL('index.html', APP)))
  })
  await new Promise<void>((resolve) => server.listen(port, host, resolve))
  return server
}

describe.skipIf(!available)('@tessera/client in a real browser', () => {
  let browser: Browser
  let tessera: Awaited<ReturnType<typeof buildApp>>
  let issuer: string
  let appUrl: string
  let app: Server
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-browser-'))
    const port = await freePort()
    const appPort = await freePort()
    issuer = `http://127.0.0.1:${port}`
    appUrl = `http://127.0.0.1:${appPort}`
    const config = loadConfig(
      {},
      {
        databaseUrl: `sqlite:${join(dir, 't.db')}`,
        dataDir: dir,
        secretKey: 'd'.repeat(64),
        port,
        issuer,
        logLevel: 'silent',
      },
    )
    tessera = await buildApp(config, { logger: false })
    const admin = await openAdmin(config, tessera.log, tessera.tessera.store)
    await createUser(admin, { username: 'alice', password: PASSWORD, roles: [] })
    await registerClient(admin, {
      id: 'web',
      isPublic: true,
      grantTypes: ['password', 'refresh_token'],
      scopes: ['read'],
      redirectUris: [`${appUrl}/callback`],
    })
    await tessera.listen({ host: '127.0.0.1', port })
    app = await serveApp(appPort, '127.0.0.1', {
      issuer,
      clientId: 'web',
      username: 'alice',
      password: PASSWORD,
    })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-gpu',
        '--no-first-run',
      ],
    })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    app?.close()
    await tessera?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Records every refresh_token grant the browser sends, with the token it presented. */
  function watchRefreshes(context: BrowserContext) {
    const presented: string[] = []
    context.on('request', (request) => {
      if (request.method() === 'POST' && request.url() === `${issuer}/oauth/token`) {
        const form = new URLSearchParams(request.postData() ?? '')
        if (form.get('grant_type') === 'refresh_token')
          presented.push(form.get('refresh_token') ?? '(cookie)')
      }
    })
    return presented
  }

  async function open(context: BrowserContext, query = ''): Promise<Page> {
    const page = await context.newPage()
    await page.goto(`${appUrl}/${query}`)
    await page.waitForFunction(() => document.getElementById('ready')?.textContent === 'ready')
    return page
  }

  it('two tabs refreshing at the same moment stay signed in and present each refresh token once', async () => {
    const context = await browser.newContext()
    const presented = watchRefreshes(context)
    const a = await open(context)
    const b = await open(context)
    await a.evaluate(() => (window as unknown as { app: { login(): Promise<void> } }).app.login())
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        [a, b].map((tab) =>
          tab.evaluate(() => (window as unknown as { app: { refresh(): Promise<string> } }).app.refresh()),
        ),
      )
    }
    expect(presented.length).toBeGreaterThanOrEqual(3)
    expect(new Set(presented).size).toBe(presented.length)
    for (const tab of [a, b]) {
      expect(
        await tab.evaluate(() => (window as unknown as { app: { me(): Promise<number> } }).app.me()),
      ).toBe(200)
      const events = await tab.evaluate(() =>
        (window as unknown as { app: { events(): string[] } }).app.events(),
      )
      expect(events.filter((e) => e.startsWith('logout'))).toEqual([])
    }
    await context.close()
  })

  it('cookie mode works and its refresh token is invisible to page scripts', async () => {
    const context = await browser.newContext()
    const presented = watchRefreshes(context)
    const page = await open(context, '?mode=cookie')
    await page.evaluate(() => (window as unknown as { app: { login(): Promise<void> } }).app.login())
    await page.evaluate(() => (window as unknown as { app: { refresh(): Promise<string> } }).app.refresh())
    expect(presented).toEqual(['(cookie)'])
    expect(
      await page.evaluate(() => (window as unknown as { app: { me(): Promise<number> } }).app.me()),
    ).toBe(200)
    expect(await page.evaluate(() => document.cookie)).not.toContain('tsr_')
    expect(
      await page.evaluate(() => (window as unknown as { app: { stored(): string } }).app.stored()),
    ).not.toContain('tsr_')
    const cookies = await context.cookies(`${issuer}/oauth/token`)
    const cookie = cookies.find((c) => c.name === 'tessera_rt')
    expect(cookie?.httpOnly).toBe(true)
    expect(cookie?.sameSite).toBe('Strict')
    await context.close()
  })

  it('a cross-site request cannot use the cookie', async () => {
    const context = await browser.newContext()
    const page = await open(context, '?mode=cookie')
    await page.evaluate(() => (window as unknown as { app: { login(): Promise<void> } }).app.login())
    const evilPort = await freePort()
    const evil = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>elsewhere</p>'),
    )
    await new Promise<void>((resolve) => evil.listen(evilPort, '127.0.0.1', resolve))
    try {
      // localhost is another site than 127.0.0.1: SameSite=Strict keeps the cookie home.
      const attacker = await context.newPage()
      await attacker.goto(`http://localhost:${evilPort}/`)
      const statuses: number[] = []
      attacker.on('response', (response) => {
        if (response.url() === `${issuer}/oauth/token`) statuses.push(response.status())
      })
      const readable = await attacker.evaluate(async (tokenUrl) => {
        try {
          const response = await fetch(tokenUrl, {
            method: 'POST',
            credentials: 'include',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-tessera-csrf': '1' },
            body: 'grant_type=refresh_token&client_id=web',
          })
          return await response.text()
        } catch {
          return 'blocked'
        }
      }, `${issuer}/oauth/token`)
      expect(readable).toBe('blocked')
      expect(statuses.every((s) => s !== 200)).toBe(true)
      expect(
        await page.evaluate(() =>
          (window as unknown as { app: { refresh(): Promise<string> } }).app.refresh(),
        ),
      ).toBeTruthy()
    } finally {
      evil.close()
      await context.close()
    }
  })
})
