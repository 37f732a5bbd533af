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
    const { type, ...fields } = event
    this.log.info({ audit: type, ...fields }, `audit: ${type}`)
    await this.store.recordAudit(event)
  }
}
