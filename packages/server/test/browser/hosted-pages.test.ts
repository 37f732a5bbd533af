import { existsSync, mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/admin.js'
import { freePort, PASSWORD, startTestServer, type TestServer } from '../support/server.js'
import { CHROMIUM, launchChromium, serveSpa } from './support-browser.js'

const available = existsSync(CHROMIUM)
if (!available) {
  if (process.env.CI) throw new Error(`CI must run the browser suites: no Chromium at ${CHROMIUM}`)
  console.info(`browser suites skipped: no Chromium at ${CHROMIUM}`)
}
const SCREENSHOTS = process.env.TESSERA_SCREENSHOTS

describe.skipIf(!available)('hosted sign-in in a real browser', () => {
  let server: TestServer
  let spa: { url: string; server: Server }
  let browser: Browser

  beforeAll(async () => {
    server = await startTestServer({ listen: true, build: { now: Date.now } })
    const spaPort = await freePort()
    await createClient(server.admin, {
      id: 'spa',
      isPublic: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['read'],
      redirectUris: [`http://127.0.0.1:${spaPort}/callback`],
    })
    spa = await serveSpa(new URL('./spa/', import.meta.url), spaPort, {
      issuer: server.url,
      clientId: 'spa',
      redirectUri: `http://127.0.0.1:${spaPort}/callback`,
    })
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    spa?.server.close()
    await server?.close()
  })

  async function signIn(page: Page, password = PASSWORD, username = 'alice') {
    await page.goto(spa.url)
    await page.click('#sign-in')
    await page.waitForURL(`${server.url}/oauth/authorize**`)
    await page.fill('#username', username)
    await page.fill('#password', password)
    await page.click('button[type=submit]')
  }

  it('an app signs in through code + PKCE, calls the API, refreshes and signs out', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await signIn(page)
    await page.waitForURL(`${spa.url}/`)
    await expect.poll(() => page.textContent('#status')).toBe('signed in as alice')
    await page.click('#call')
    await expect.poll(() => page.textContent('#out')).toContain('"username":"alice"')
    await page.click('#refresh')
    await expect.poll(() => page.textContent('#out')).toBe('refreshed: ok')
    await page.click('#sign-out')
    await expect.poll(() => page.textContent('#out')).toBe('signed out: ok')
    await page.click('#refresh')
    await expect.poll(() => page.textContent('#out')).toBe('refresh failed: invalid_grant')
    await context.close()
  })

  it('a wrong password shows an error that does not reveal whether the user exists', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await signIn(page, 'not the password')
    const known = await page.textContent('[role=alert]')
    await page.goto(spa.url)
    await signIn(page, 'not the password', 'nobody-by-this-name')
    const unknown = await page.textContent('[role=alert]')
    expect(known).toBe('The username or password is incorrect.')
    expect(unknown).toBe(known)
    expect(await page.inputValue('#password')).toBe('')
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true })
      await page.setViewportSize({ width: 420, height: 720 })
      await page.screenshot({ path: `${SCREENSHOTS}/sign-in-error.png` })
    }
    await context.close()
  })

  it('the account page lists the session and revokes it; the app’s next refresh fails', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await signIn(page)
    await expect.poll(() => page.textContent('#status')).toBe('signed in as alice')
    if (SCREENSHOTS) {
      await page.goto(spa.url)
      await page.click('#sign-in')
      await page.waitForURL(`${spa.url}/`)
    }
    const account = await context.newPage()
    await account.goto(`${server.url}/account`)
    const rows = account.locator('tr[data-session]')
    await expect.poll(() => rows.count()).toBeGreaterThan(0)
    expect(await account.textContent('table')).toContain('spa')
    expect(await account.textContent('table')).toContain('Chrome on Linux')
    if (SCREENSHOTS) await account.screenshot({ path: `${SCREENSHOTS}/account.png`, fullPage: true })
    const count = await rows.count()
    for (let i = 0; i < count; i++) await account.locator('tr[data-session] button').first().click()
    await expect.poll(() => account.locator('tr[data-session]').count()).toBe(0)
    await page.click('#refresh')
    await expect.poll(() => page.textContent('#out')).toBe('refresh failed: invalid_grant')
    await context.close()
  })

  it('a tampered redirect_uri is shown an error page, never followed', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const url = new URL(`${server.url}/oauth/authorize`)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'spa',
      redirect_uri: 'https://evil.example/callback',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'S256',
    }).toString()
    const response = await page.goto(url.toString())
    expect(response?.status()).toBe(400)
    expect(page.url()).toContain(server.url)
    expect(await page.textContent('h1')).toBe('Invalid redirect address')
    await context.close()
  })

  it('the sign-in page shows on a phone screenshot without inline script', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 720 } })
    const page = await context.newPage()
    const violations: string[] = []
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text())
    })
    await page.goto(spa.url)
    await page.click('#sign-in')
    await page.waitForURL(`${server.url}/oauth/authorize**`)
    expect(await page.locator('script').count()).toBe(0)
    expect(await page.getAttribute('#username', 'autocomplete')).toBe('username')
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    expect(width).toBeLessThanOrEqual(390)
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/sign-in.png` })
    expect(violations).toEqual([])
    await context.close()
  })
})
