/**
 * Guard verification throughput beside raw node:crypto verification of the same token.
 * Usage: npx tsx bench/guard-verify.ts [--quick] [--alg ES256|EdDSA]   → one JSON object on stdout.
 * ES256 is the default because it is the server's default signing algorithm.
 */
import { generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto'
import { jwtVerify } from 'jose'
import { createVerifier } from '../packages/guard/src/index.js'

const quick = process.argv.includes('--quick')
const SECONDS_PER_SCENARIO = quick ? 0.6 : 2
const ROUNDS = quick ? 1 : 2
const POOL = quick ? 4_000 : 12_000
const BATCH = 500

const issuer = 'https://auth.bench.test'
const audience = 'https://api.bench.test'
const kid = 'bench-key'
const algIndex = process.argv.indexOf('--alg')
const ALG = (algIndex >= 0 ? process.argv[algIndex + 1] : 'ES256') as 'ES256' | 'EdDSA'
const { publicKey, privateKey } =
  ALG === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
// JWS ES256 signatures are raw r‖s (RFC 7518 §3.4), not DER.
const signWith = (input: Buffer, key: KeyObject) =>
  ALG === 'ES256' ? sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }) : sign(null, input, key)
const verifyWith = (input: Buffer, key: KeyObject, signature: Buffer) =>
  ALG === 'ES256'
    ? verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)
    : verify(null, input, key, signature)

function mint(key: KeyObject): string {
  const now = Math.floor(Date.now() / 1000)
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const header = encode({ alg: ALG, typ: 'at+jwt', kid })
  const payload = encode({
    iss: issuer,
    sub: 'user-1',
    aud: audience,
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    client_id: 'bench',
    scope: 'orders:read orders:write profile',
    sid: randomUUID(),
    roles: ['viewer'],
  })
  const input = `${header}.${payload}`
  return `${input}.${signWith(Buffer.from(input), key).toString('base64url')}`
}

const token = mint(privateKey)
const pool = Array.from({ length: POOL }, () => mint(privateKey))
const verifier = createVerifier({ issuer, audience, keys: [{ kid, key: publicKey }] })

function rawVerify(jwt: string): boolean {
  const dot = jwt.lastIndexOf('.')
  return verifyWith(
    Buffer.from(jwt.slice(0, dot), 'latin1'),
    publicKey,
    Buffer.from(jwt.slice(dot + 1), 'base64url'),
  )
}

async function measure(run: (index: number) => unknown): Promise<number> {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(SECONDS_PER_SCENARIO * 1e9))
  const start = process.hrtime.bigint()
  let ops = 0
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < BATCH; i++) {
      const result = run(ops + i)
      if (result instanceof Promise) await result
    }
    ops += BATCH
  }
  return ops / (Number(process.hrtime.bigint() - start) / 1e9)
}

const scenarios: Record<string, (index: number) => unknown> = {
  // The baseline verifies the very tokens the unique scenario does, so the ratio is the guard's
  // own cost per token: parsing, header and claim checks, key lookup and the cache.
  nodeCryptoVerify: (index) => {
    if (!rawVerify(pool[index % POOL] as string)) throw new Error('baseline failed')
  },
  guardVerifyUnique: (index) => verifier.verify(pool[index % POOL] as string),
  guardVerifyRepeated: () => verifier.verify(token),
  joseJwtVerify: () => jwtVerify(token, publicKey, { issuer, audience, typ: 'at+jwt', algorithms: [ALG] }),
}

for (const run of Object.values(scenarios)) for (let i = 0; i < 2_000; i++) await run(i)

const best: Record<string, number> = {}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(scenarios)) {
    best[name] = Math.max(best[name] ?? 0, await measure(run))
  }
}

const baseline = best.nodeCryptoVerify as number
const result = Object.fromEntries(
  Object.entries(best).map(([name, opsPerSec]) => [
    name,
    { opsPerSec: Math.round(opsPerSec), ratioToBaseline: Number((opsPerSec / baseline).toFixed(3)) },
  ]),
)
process.stdout.write(`${JSON.stringify({ alg: ALG, ...result })}\n`)
