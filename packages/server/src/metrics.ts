import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** Prometheus metrics of one server; a registry per app so several apps can share a process. */
export class Metrics {
  readonly registry = new Registry()
  readonly tokensIssued = new Counter({
    name: 'tessera_tokens_issued_total',
    help: 'Access tokens issued, by grant type',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  })
  readonly refreshes = new Counter({
    name: 'tessera_refresh_total',
    help: 'Refresh grant outcomes: rotated, grace (retry answered with the current token), reuse, invalid',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })
  readonly reuseDetected = new Counter({
    name: 'tessera_refresh_reuse_detected_total',
    help: 'Refresh tokens presented after their grace window; each revoked its whole session',
    registers: [this.registry],
  })
  readonly rateLimited = new Counter({
    name: 'tessera_rate_limited_total',
    help: 'Requests refused with 429, by limiter',
    labelNames: ['limiter'] as const,
    registers: [this.registry],
  })
  readonly sessionsRevoked = new Counter({
    name: 'tessera_sessions_revoked_total',
    help: 'Sessions revoked, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })
  readonly requestDuration = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  readonly redisFallbacks = new Counter({
    name: 'tessera_redis_fallback_total',
    help: 'Times Redis became unreachable and shared state fell back to per-instance state',
    registers: [this.registry],
  })
  readonly dependencyUp = new Gauge({
    name: 'tessera_dependency_up',
    help: '1 when a dependency answered its last check, 0 when it did not',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' })
  }
}
