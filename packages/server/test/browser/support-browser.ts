import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium'

/** Debian's Chromium, headless; never a downloaded browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-component-update',
      '--no-first-run',
    ],
  })
}

/** Serves the example SPA's files plus its config on 127.0.0.1. */
export async function serveSpa(
  dir: URL,
  port: number,
  config: Record<string, string>,
): Promise<{ url: string; server: Server }> {
  const files: Record<string, [string, string]> = {
    '/app.js': ['text/javascript', readFileSync(new URL('app.js', dir), 'utf8')],
    '/config.json': ['application/json', JSON.stringify(config)],
  }
  const index = readFileSync(new URL('index.html', dir), 'utf8')
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const [type, body] = files[path] ?? ['text/html', index]
    res.writeHead(200, { 'content-type': type }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${port}`, server }
}
