/**
 * Tessera's load benchmarks: every scenario beside a baseline measured in the same run.
 * Usage: npm run bench [-- --quick] [--only refresh,fastify-baseline] [--runs N] [--duration S] [--cpu-prof DIR] [--perf-map]
 * Writes bench/results.json and bench/RESULTS.md.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { pino } from 'pino'
import {
  createClient,
  createUser,
  type KyselyStore,
  loadConfig,
  openAdmin,
} from '../packages/server/dist/index.js'
import { mintRefreshTokens } from './mint.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(`--${name}`)
const option = (name: string) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : undefined
}
const QUICK = flag('quick')
const RUNS = Number(option('runs') ?? (QUICK ? 1 : 3))
const DURATION = Number(option('duration') ?? (QUICK ? 3 : 8))
const ONLY = option('only')?.split(',')
const CONNECTIONS = 50
const SECRET = 'b'.repeat(64)
const COMMAND = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`

const wanted = (name: string) => !ONLY || ONLY.includes(name)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

// One core for the server, one for the load generator, as the performance targets assume.
let pinned = false
try {
  execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
  pinned = true
} catch {}
// `--cpu-prof DIR` writes a V8 CPU profile of every server process into DIR, for finding hot spots.
const CPU_PROF = option('cpu-prof')
const nodeArgs = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : []
// `--perf-map` lets `perf record` name JIT-compiled JavaScript frames of the server processes.
if (flag('perf-map')) nodeArgs.push('--perf-basic-prof-only-functions')
const serverPrefix = pinned
  ? ['taskset', '-c', '0', process.execPath, ...nodeArgs]
  : [process.execPath, ...nodeArgs]

interface Proc {
  child: ChildProcess
  url: string
  stop(): Promise<void>
}

async function startProcess(
  args: string[],
  port: number,
  env: Record<string, string> = {},
  readyPath = '/',
): Promise<Proc> {
  const [command, ...rest] = [...serverPrefix, ...args]
  let output = ''
  const child = spawn(command!, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString()
  })
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited: ${output}`)
    try {
      await fetch(`${url}${readyPath}`)
      break
    } catch {}
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} did not start: ${output}`)
    await sleep(100)
  }
  return {
    child,
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** The server process's own pid (taskset execs node in place, so it is the child itself). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024)
}

interface LoadResult {
  loginRps?: number
  rps: number
  p50: number
  p99: number
  p999: number
  non2xx: number
  errors: number
  cpu: number
  rssMb: number
}

async function load(
  proc: Proc,
  path: string,
  request: {
    body?: string
    next?: () => string
    headers?: Record<string, string>
    connections?: number
    duration?: number
  },
): Promise<LoadResult> {
  const pid = proc.child.pid!
  const cpuBefore = cpuSeconds(pid)
  const started = Date.now()
  const result = await autocannon({
    url: `${proc.url}${path}`,
    connections: request.connections ?? CONNECTIONS,
    duration: request.duration ?? DURATION,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...request.headers },
    ...(request.next
      ? {
          requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: request.next!() }) }],
        }
      : { body: request.body ?? '' }),
  })
  const elapsed = (Date.now() - started) / 1000
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    non2xx: result.non2xx,
    errors: result.errors,
    cpu: Math.round((100 * (cpuSeconds(pid) - cpuBefore)) / elapsed),
    rssMb: rssMb(pid),
  }
}

function summarize(runs: LoadResult[]): LoadResult & { runs: number } {
  const pick = (key: Exclude<keyof LoadResult, 'loginRps'>) => median(runs.map((r) => r[key]))
  return {
    rps: pick('rps'),
    p50: pick('p50'),
    p99: pick('p99'),
    p999: pick('p999'),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpu: pick('cpu'),
    rssMb: Math.max(...runs.map((r) => r.rssMb)),
    runs: runs.length,
    ...(runs[0]?.loginRps !== undefined ? { loginRps: median(runs.map((r) => r.loginRps ?? 0)) } : {}),
  }
}

async function repeat(fn: () => Promise<LoadResult>) {
  const runs: LoadResult[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await fn())
  return summarize(runs)
}

/** A Tessera server on a fresh database (SQLite unless a URL is given) with a user, two clients and minted refresh tokens. */
async function startTessera(port: number, tokenCount: number, databaseUrl?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'))
  const env = {
    TESSERA_DATABASE_URL: databaseUrl ?? `sqlite:${join(dir, 'tessera.db')}`,
    TESSERA_DATA_DIR: dir,
    TESSERA_SECRET_KEY: SECRET,
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_LOGIN_MAX_FAILURES: '1000000',
  }
  const config = loadConfig(env, { port })
  const admin = await openAdmin(config, pino({ level: 'silent' }))
  const user = await createUser(admin, { username: 'bench', password: 'bench-password', roles: ['user'] })
  await createClient(admin, {
    id: 'web',
    isPublic: true,
    grantTypes: ['password', 'refresh_token'],
    scopes: ['read', 'write'],
    redirectUris: [],
  })
  await createClient(admin, {
    id: 'svc',
    secret: 'bench-service-secret',
    isPublic: false,
    grantTypes: ['client_credentials'],
    scopes: ['read', 'write'],
    redirectUris: [],
  })
  const tokens = await mintRefreshTokens(admin.store as KyselyStore, admin.secret, {
    count: tokenCount,
    clientId: 'web',
    userId: user.id,
    scope: 'read write',
  })
  await admin.store.close()
  const proc = await startProcess(
    [join(here, '../packages/server/dist/main.js'), 'serve', '--port', String(port)],
    port,
    env,
    '/healthz',
  )
  await sleep(500)
  return {
    proc,
    tokens,
    idleRssMb: rssMb(proc.child.pid!),
    close: async () => {
      await proc.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function cryptoOps(): Record<string, number> {
  const data = Buffer.from(`${'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9'}.${'x'.repeat(320)}`)
  const ops = (fn: () => unknown) => {
    for (let i = 0; i < 500; i++) fn()
    const seconds = QUICK ? 0.5 : 1.5
    const end = performance.now() + seconds * 1000
    let n = 0
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) fn()
      n += 100
    }
    return Math.round(n / seconds)
  }
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  const ecSig = sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' })
  const edSig = sign(null, data, ed.privateKey)
  return {
    es256Sign: ops(() => sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' })),
    es256Verify: ops(() => verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, ecSig)),
    eddsaSign: ops(() => sign(null, data, ed.privateKey)),
    eddsaVerify: ops(() => verify(null, data, ed.publicKey, edSig)),
  }
}

const results: Record<string, unknown> = {}
const scenarios: Record<string, ReturnType<typeof summarize> & { loginRps?: number }> = {}
let port = 18_400

const SOAK = Number(option('soak') ?? 0)
if (SOAK > 0) {
  // Memory under sustained load: RSS sampled every 10 s while refreshes run for SOAK seconds.
  // Written to SOAK.md and soak.json; RESULTS.md is left as it is.
  const tessera = await startTessera(++port, SOAK * 14_000 + 1000)
  let cursor = 0
  const samples: number[] = [rssMb(tessera.proc.child.pid!)]
  const sampler = setInterval(() => samples.push(rssMb(tessera.proc.child.pid!)), 10_000)
  const soak = await load(tessera.proc, '/oauth/token', {
    duration: SOAK,
    next: () =>
      `grant_type=refresh_token&client_id=web&refresh_token=${tessera.tokens[cursor++ % tessera.tokens.length]}`,
  })
  clearInterval(sampler)
  samples.push(rssMb(tessera.proc.child.pid!))
  await tessera.close()
  const report = {
    command: COMMAND,
    date: new Date().toISOString(),
    seconds: SOAK,
    rps: soak.rps,
    p99: soak.p99,
    rssMbSamples: samples,
  }
  writeFileSync(join(here, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(
    join(here, 'SOAK.md'),
    `# Memory soak\n\nProduced by \`${COMMAND}\` on ${report.date.slice(0, 10)}: ${SOAK} s of refreshes at full load (50 connections,\n${soak.rps} req/s, p99 ${soak.p99} ms), the server's RSS sampled every 10 s:\n\n${samples.join(' · ')} MB\n\nFirst sample ${samples[0]} MB (idle), highest ${Math.max(...samples)} MB, last ${samples.at(-1)} MB.\n`,
  )
  console.log(readFileSync(join(here, 'SOAK.md'), 'utf8'))
  process.exit(0)
}

if (wanted('fastify-baseline')) {
  const proc = await startProcess([join(here, 'servers/fastify-form.mjs'), String(++port)], port)
  scenarios['fastify-baseline'] = await repeat(() =>
    load(proc, '/oauth/token', { body: 'grant_type=refresh_token&client_id=web&refresh_token=tsr_x' }),
  )
  await proc.stop()
}

if (wanted('fastify-sign-baseline')) {
  const proc = await startProcess([join(here, 'servers/fastify-sign.mjs'), String(++port)], port)
  scenarios['fastify-sign-baseline'] = await repeat(() =>
    load(proc, '/oauth/token', { body: 'grant_type=refresh_token&client_id=web&refresh_token=tsr_x' }),
  )
  await proc.stop()
}

const tesseraScenarios = [
  'refresh',
  'client-credentials',
  'introspection',
  'password',
  'refresh-during-login-storm',
]
if (tesseraScenarios.some(wanted)) {
  const perRun = DURATION * 16_000
  const tessera = await startTessera(
    ++port,
    perRun * RUNS * (wanted('refresh-during-login-storm') ? 2 : 1) + 1000,
  )
  results.idleRssMb = tessera.idleRssMb
  let cursor = 0
  const nextRefresh = () =>
    `grant_type=refresh_token&client_id=web&refresh_token=${tessera.tokens[cursor++ % tessera.tokens.length]}`
  const basic = `Basic ${Buffer.from('svc:bench-service-secret').toString('base64')}`
  if (wanted('refresh'))
    scenarios.refresh = await repeat(() => load(tessera.proc, '/oauth/token', { next: nextRefresh }))
  if (wanted('client-credentials')) {
    scenarios['client-credentials'] = await repeat(() =>
      load(tessera.proc, '/oauth/token', {
        body: 'grant_type=client_credentials',
        headers: { authorization: basic },
      }),
    )
  }
  if (wanted('introspection')) {
    const token = (
      (await (
        await fetch(`${tessera.proc.url}/oauth/token`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        })
      ).json()) as { access_token: string }
    ).access_token
    scenarios.introspection = await repeat(() =>
      load(tessera.proc, '/oauth/introspect', { body: `token=${token}`, headers: { authorization: basic } }),
    )
  }
  const login = 'grant_type=password&client_id=web&username=bench&password=bench-password'
  if (wanted('password'))
    scenarios.password = await repeat(() => load(tessera.proc, '/oauth/token', { body: login }))
  if (wanted('refresh-during-login-storm')) {
    scenarios['refresh-during-login-storm'] = await repeat(async () => {
      const storm = load(tessera.proc, '/oauth/token', { body: login, connections: 20 })
      const refresh = await load(tessera.proc, '/oauth/token', { next: nextRefresh })
      const logins = await storm
      return { ...refresh, loginRps: logins.rps }
    })
  }
  await tessera.close()
}

const POSTGRES = process.env.TESSERA_BENCH_DATABASE_URL ?? process.env.TESSERA_TEST_DATABASE_URL
if (wanted('refresh-postgres') && POSTGRES) {
  const { default: pg } = await import('pg')
  const name = `tessera_bench_${Date.now()}`
  const admin = new pg.Client({ connectionString: POSTGRES })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(POSTGRES)
  url.pathname = `/${name}`
  const tessera = await startTessera(++port, DURATION * 12_000 * RUNS + 1000, url.toString())
  let cursor = 0
  scenarios['refresh-postgres'] = await repeat(() =>
    load(tessera.proc, '/oauth/token', {
      next: () =>
        `grant_type=refresh_token&client_id=web&refresh_token=${tessera.tokens[cursor++ % tessera.tokens.length]}`,
    }),
  )
  await tessera.close()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}

if (wanted('oidc-provider-refresh')) {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-bench-'))
  const file = join(dir, 'tokens.json')
  const count = DURATION * 8000 * RUNS + 1000
  const proc = await startProcess(
    [join(here, 'servers/oidc-provider.mjs'), String(++port), file, String(count)],
    port,
    {},
    '/.well-known/openid-configuration',
  )
  const tokens = JSON.parse(readFileSync(file, 'utf8')) as string[]
  let cursor = 0
  scenarios['oidc-provider-refresh'] = await repeat(() =>
    load(proc, '/token', {
      next: () => `grant_type=refresh_token&client_id=web&refresh_token=${tokens[cursor++ % tokens.length]}`,
    }),
  )
  await proc.stop()
  rmSync(dir, { recursive: true, force: true })
}

if (wanted('crypto')) results.crypto = cryptoOps()

if (wanted('guard')) {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(here, 'guard-verify.ts'), ...(QUICK ? ['--quick'] : [])],
    {
      encoding: 'utf8',
    },
  )
  results.guard = JSON.parse(out.trim().split('\n').pop()!)
}

const ratio = (a?: { rps: number }, b?: { rps: number }) =>
  a && b && b.rps > 0 ? Math.round((1000 * a.rps) / b.rps) / 1000 : null
const base = scenarios['fastify-baseline']
const ratios = {
  refreshVsFastify: ratio(scenarios.refresh, base),
  refreshVsFastifySign: ratio(scenarios.refresh, scenarios['fastify-sign-baseline']),
  clientCredentialsVsFastifySign: ratio(scenarios['client-credentials'], scenarios['fastify-sign-baseline']),
  refreshVsOidcProvider: ratio(scenarios.refresh, scenarios['oidc-provider-refresh']),
  clientCredentialsVsFastify: ratio(scenarios['client-credentials'], base),
  introspectionVsFastify: ratio(scenarios.introspection, base),
  passwordVsFastify: ratio(scenarios.password, base),
  refreshDuringLoginStormVsRefresh: ratio(scenarios['refresh-during-login-storm'], scenarios.refresh),
  refreshPostgresVsFastify: ratio(scenarios['refresh-postgres'], base),
}
const cpu = cpus()[0]?.model ?? 'unknown'
const output = {
  command: COMMAND,
  date: new Date().toISOString(),
  machine: {
    cpu,
    cores: cpus().length,
    node: process.version,
    pinned,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    runs: RUNS,
  },
  scenarios,
  ratios,
  ...results,
}
writeFileSync(join(here, 'results.json'), `${JSON.stringify(output, null, 2)}\n`)

const rows = Object.entries(scenarios).map(
  ([name, r]) =>
    `| ${name}${r.loginRps !== undefined ? ` (logins ${r.loginRps}/s alongside)` : ''} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.p999} | ${base ? ratio(r, base) : '—'} | ${r.cpu}% | ${r.rssMb} | ${r.non2xx + r.errors} |`,
)
const md = `# Benchmark results

Produced by \`${COMMAND}\` on ${output.date.slice(0, 10)}: ${cpu}, ${cpus().length} cores, Node ${process.version};
${pinned ? 'server pinned to core 0, load generator (autocannon, in this process) to core 1' : 'no CPU pinning available'};
${CONNECTIONS} connections, ${DURATION} s per run, median of ${RUNS} run(s). Tessera runs on its embedded SQLite
default with durable commits (\`synchronous = FULL\`: a refresh is on disk before its response is sent).
Absolute numbers depend on the machine; the ratios to baselines measured in the same run are the claim.

| scenario | req/s | p50 ms | p99 ms | p99.9 ms | × Fastify baseline | server CPU | RSS MB | failed |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Ratios: ${Object.entries(ratios)
  .map(([k, v]) => `\`${k}\` ${v ?? '—'}`)
  .join(' · ')}

Idle RSS of a Tessera server: ${results.idleRssMb ?? '—'} MB.${
  results.soak
    ? ` Soak: ${(results.soak as { seconds: number }).seconds} s of refreshes at ${(results.soak as { rps: number }).rps} req/s, RSS every 10 s (MB): ${(results.soak as { rssMbSamples: number[] }).rssMbSamples.join(', ')}.`
    : ''
}
${
  results.crypto
    ? `\nRaw node:crypto on the load-generator core (ops/s): ${Object.entries(
        results.crypto as Record<string, number>,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(' · ')}\n`
    : ''
}${results.guard ? `\nGuard verification (\`npx tsx bench/guard-verify.ts\`, in-process): \`${JSON.stringify(results.guard)}\`\n` : ''}
Scenarios: \`fastify-baseline\` is a bare Fastify form POST answering a fixed JSON body;
\`fastify-sign-baseline\` is the same POST signing one ES256 access token per request with node:crypto — the
ceiling for any endpoint that mints a JWT on this machine; \`refresh\` presents
pre-minted refresh tokens, each once (rotation, durable commit, ES256 access token); \`client-credentials\` uses
HTTP Basic; \`introspection\` introspects one access token; \`password\` is argon2id by design;
\`refresh-during-login-storm\` is the refresh scenario while 20 more connections send password logins;
\`refresh-postgres\` is the refresh scenario on PostgreSQL (one round trip per rotation; the database shares the machine's two cores);
\`oidc-provider-refresh\` is node-oidc-provider's rotating refresh grant issuing ES256 JWT access tokens, on an
in-memory adapter (no database: in its favour).
`
const guard = results.guard as
  | { guardVerifyUnique?: { ratioToBaseline: number }; guardVerifyRepeated?: { opsPerSec: number } }
  | undefined
const target = (name: string, value: number | null | undefined, goal: string, met: boolean | undefined) =>
  `| ${name} | ${value ?? '—'} | ${goal} | ${value === null || value === undefined ? '—' : met ? 'met' : 'not met'} |`
const targets = [
  target(
    'refresh ÷ Fastify baseline',
    ratios.refreshVsFastify,
    '≥ 0.25',
    (ratios.refreshVsFastify ?? 0) >= 0.25,
  ),
  target('refresh ÷ Fastify + ES256 sign ceiling', ratios.refreshVsFastifySign, '(context)', true),
  target(
    'refresh ÷ node-oidc-provider',
    ratios.refreshVsOidcProvider,
    '≥ 4',
    (ratios.refreshVsOidcProvider ?? 0) >= 4,
  ),
  target(
    'refresh p99 (ms), 50 connections',
    scenarios.refresh?.p99,
    '< 10',
    (scenarios.refresh?.p99 ?? 99) < 10,
  ),
  target(
    'refresh on PostgreSQL (req/s)',
    scenarios['refresh-postgres']?.rps,
    '≥ 5000',
    (scenarios['refresh-postgres']?.rps ?? 0) >= 5000,
  ),
  target(
    'guard, unique tokens ÷ raw node:crypto verify',
    guard?.guardVerifyUnique?.ratioToBaseline,
    '≥ 0.9',
    (guard?.guardVerifyUnique?.ratioToBaseline ?? 0) >= 0.9,
  ),
  target(
    'guard, repeated tokens (verifications/s)',
    guard?.guardVerifyRepeated?.opsPerSec,
    '≥ 100000',
    (guard?.guardVerifyRepeated?.opsPerSec ?? 0) >= 100_000,
  ),
  target(
    'idle RSS (MB)',
    results.idleRssMb as number | undefined,
    '< 100',
    ((results.idleRssMb as number | undefined) ?? 999) < 100,
  ),
]
const targetsMd = `
## Against the performance targets

| figure | this run | target | |
|---|---|---|---|
${targets.join('\n')}
`
writeFileSync(join(here, 'RESULTS.md'), md + targetsMd)
console.log(md)
