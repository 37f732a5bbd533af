import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'

export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256'

export interface SigningKey {
  readonly kid: string
  readonly alg: SigningAlg
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: JWK
}

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
  readonly body: string
}

export interface IntrospectionAnswer {
  readonly status?: number
  readonly body: unknown
}

export type IntrospectionHandler = (
  params: URLSearchParams,
  authorization: string | undefined,
) => IntrospectionAnswer

export interface MintOptions {
  readonly key?: SigningKey
  readonly header?: Record<string, unknown>
  readonly now?: number
}

/** A stand-in authorization server on loopback: metadata, JWKS and introspection. */
export class FakeIssuer {
  readonly audience = 'https://api.example.test'
  readonly requests: RecordedRequest[] = []
  readonly keys: SigningKey[] = []
  jwksStatus = 200
  metadataIssuer: string | undefined
  introspection: IntrospectionHandler = () => ({ body: { active: false } })
  url = ''
  readonly #server = createServer((req, res) => this.#handle(req, res))

  static async start(algs: readonly SigningAlg[] = ['EdDSA']): Promise<FakeIssuer> {
    const issuer = new FakeIssuer()
    await new Promise<void>((resolve) => issuer.#server.listen(0, '127.0.0.1', resolve))
    issuer.url = `http://127.0.0.1:${(issuer.#server.address() as AddressInfo).port}`
    for (const alg of algs) await issuer.addKey(alg)
    return issuer
  }

  get jwksUri(): string {
    return `${this.url}/.well-known/jwks.json`
  }

  count(path: string): number {
    return this.requests.filter((request) => request.path === path).length
  }

  async addKey(alg: SigningAlg, kid: string = randomUUID()): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
    const key = { kid, alg, privateKey, publicKey, publicJwk }
    this.keys.push(key)
    return key
  }

  claims(overrides: JWTPayload = {}, now = Date.now()): JWTPayload {
    const iat = Math.floor(now / 1000)
    return {
      iss: this.url,
      sub: 'user-1',
      aud: this.audience,
      iat,
      exp: iat + 900,
      jti: randomUUID(),
      client_id: 'web-app',
      scope: 'orders:read profile',
      sid: 'session-1',
      roles: ['viewer'],
      ...overrides,
    }
  }

  async mint(overrides: JWTPayload = {}, options: MintOptions = {}): Promise<string> {
    const key = options.key ?? this.keys[0]
    if (!key) throw new Error('no signing key')
    return new SignJWT(this.claims(overrides, options.now))
      .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...options.header })
      .sign(key.privateKey)
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => {
      const path = new URL(req.url ?? '/', this.url).pathname
      this.requests.push({
        method: req.method ?? 'GET',
        path,
        authorization: req.headers.authorization,
        body,
      })
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value))
      }
      if (path === '/.well-known/oauth-authorization-server') {
        return send(200, {
          issuer: this.metadataIssuer ?? this.url,
          jwks_uri: this.jwksUri,
          introspection_endpoint: `${this.url}/oauth/introspect`,
        })
      }
      if (path === '/.well-known/jwks.json') {
        return send(this.jwksStatus, { keys: this.keys.map((key) => key.publicJwk) })
      }
      if (path === '/oauth/introspect' && req.method === 'POST') {
        const answer = this.introspection(new URLSearchParams(body), req.headers.authorization)
        return send(answer.status ?? 200, answer.body)
      }
      send(404, { error: 'not_found' })
    })
  }
}

/** Builds a compact JWS from raw parts, for tokens no honest library would produce. */
export function compact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature: Buffer,
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode(header)}.${encode(payload)}.${signature.toString('base64url')}`
}
