import type {} from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../context.js'

const PING_TIMEOUT_MS = 2000

async function check(probe: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), PING_TIMEOUT_MS)
      }),
    ])
    return 'ok'
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause
    return `unavailable: ${cause?.message ?? (error as Error).message}`
  } finally {
    clearTimeout(timer)
  }
}

/**
 * GET /healthz (the process answers) and GET /readyz (the database answers). Optional
 * dependencies (Redis) are reported but do not make an instance unready: without them it
 * degrades to per-instance limits instead of failing, so the load balancer should keep it.
 */
export function healthEndpoints(
  app: FastifyInstance,
  ctx: ServerContext,
  optionalChecks: Record<string, () => Promise<void>> = {},
): void {
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'Liveness: the process answers' } },
    async () => ({ status: 'ok' }),
  )
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database (and Redis, when configured) answer',
      },
    },
    async (_request, reply) => {
      const probes = { database: () => ctx.store.ping(), ...optionalChecks }
      const checks: Record<string, string> = {}
      for (const [name, probe] of Object.entries(probes)) {
        checks[name] = await check(probe)
        ctx.metrics.dependencyUp.set({ dependency: name }, checks[name] === 'ok' ? 1 : 0)
      }
      const ready = checks.database === 'ok'
      const degraded = Object.values(checks).some((c) => c !== 'ok')
      reply.code(ready ? 200 : 503).header('cache-control', 'no-store')
      return { status: !ready ? 'unavailable' : degraded ? 'degraded' : 'ready', checks }
    },
  )
  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false } },
    async (_request, reply) => {
      reply.type(ctx.metrics.registry.contentType)
      return ctx.metrics.registry.metrics()
    },
  )
}
