import type { FastifyBaseLogger } from 'fastify'
import type { AuditEvent, Store } from './store/store.js'

/**
 * Security events go to the audit table and to one structured log line each. Callers pass ids
 * and reasons only; no token, secret or password ever reaches an event.
 */
export class Audit {
  constructor(
    private readonly store: Store,
    private readonly log: FastifyBaseLogger,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    this.log.info({ audit: event.type, ...event, type: undefined }, `audit: ${event.type}`)
    await this.store.recordAudit(event)
  }
}
