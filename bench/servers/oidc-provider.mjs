// Peer: node-oidc-provider's refresh grant with rotating refresh tokens, issuing ES256-signed JWT
// access tokens for a resource server (as Tessera does), on an in-memory adapter (no database at
// all, in its favour against Tessera).
// Usage: node oidc-provider.mjs PORT TOKENS_OUT COUNT

import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import Provider from 'oidc-provider'

// The bundled development adapter keeps only the last 1000 entries; the benchmark needs every
// pre-minted token to stay, so a plain Map-backed adapter (still in memory) stands in.
const stores = new Map()
class MapAdapter {
  constructor(name) {
    this.store = stores.get(name) ?? new Map()
    stores.set(name, this.store)
  }
  async upsert(id, payload) {
    this.store.set(id, payload)
  }
  async find(id) {
    return this.store.get(id)
  }
  async findByUid(uid) {
    for (const value of this.store.values()) if (value.uid === uid) return value
  }
  async findByUserCode() {}
  async consume(id) {
    const value = this.store.get(id)
    if (value) value.consumed = Math.floor(Date.now() / 1000)
  }
  async destroy(id) {
    this.store.delete(id)
  }
  async revokeByGrantId(grantId) {
    for (const [id, value] of this.store) if (value.grantId === grantId) this.store.delete(id)
  }
}

const RESOURCE = 'https://api.bench.test'
const [port, out, count] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] ?? 1000)]
const issuer = `http://127.0.0.1:${port}`
const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients: [
    {
      client_id: 'web',
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],
  rotateRefreshToken: true,
  jwks: {
    keys: [
      {
        ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
        kid: 'bench',
        alg: 'ES256',
        use: 'sig',
      },
    ],
  },
  features: {
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  ttl: { AccessToken: 900, RefreshToken: 86_400, Grant: 86_400, Session: 86_400 },
})
provider.on('server_error', (_ctx, error) => console.error(error))

const client = await provider.Client.find('web')
const tokens = []
const grant = new provider.Grant({ accountId: 'user-1', clientId: 'web' })
grant.addOIDCScope('openid offline_access')
grant.addResourceScope(RESOURCE, 'read')
const grantId = await grant.save()
for (let i = 0; i < count; i++) {
  const rt = new provider.RefreshToken({
    accountId: 'user-1',
    client,
    grantId,
    gty: 'authorization_code',
    scope: 'offline_access read',
    resource: RESOURCE,
    authTime: Math.floor(Date.now() / 1000),
    expiresWithSession: false,
  })
  tokens.push(await rt.save())
}
writeFileSync(out, JSON.stringify(tokens))
const server = provider.listen(port, '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
