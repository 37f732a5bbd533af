import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

/** A started example app: its base URL and how to stop it. */
export interface Listening {
  url: string
  close(): Promise<void>
}

const HOST = '127.0.0.1'

/** Starts a Fastify app on 127.0.0.1 (`port` 0 picks a free one). */
export async function listenFastify(app: FastifyInstance, port = 0): Promise<Listening> {
  await app.listen({ host: HOST, port })
  const address = app.server.address() as AddressInfo
  return { url: `http://${HOST}:${address.port}`, close: () => app.close() }
}

/** Starts a Node request listener — an Express app is one — on 127.0.0.1. */
export async function listenNode(listener: RequestListener, port = 0): Promise<Listening> {
  const server = createServer(listener)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, HOST, resolve)
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${HOST}:${address.port}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

type FetchHandler = (request: Request) => Response | Promise<Response>

/** Starts a web-standard `fetch` handler — a Hono app's `app.fetch` — on Node's HTTP server. */
export function listenFetch(handler: FetchHandler, port = 0): Promise<Listening> {
  return listenNode((req, res) => {
    toRequest(req)
      .then(handler)
      .then((response) => writeResponse(response, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
        res.end('{"error":"server_error"}')
      })
  }, port)
}

async function toRequest(req: IncomingMessage): Promise<Request> {
  const headers = new Headers()
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    headers.append(req.rawHeaders[index] as string, req.rawHeaders[index + 1] as string)
  }
  const init: RequestInit = { method: req.method ?? 'GET', headers }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    init.body = Buffer.concat(chunks)
  }
  return new Request(`http://${req.headers.host ?? HOST}${req.url ?? '/'}`, init)
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  res.writeHead(response.status, headers)
  res.end(Buffer.from(await response.arrayBuffer()))
}
