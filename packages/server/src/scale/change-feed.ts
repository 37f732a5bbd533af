import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'

export type ChangeEvent =
  | { type: 'keys_rotated' }
  | { type: 'session_revoked'; sid: string; until: number }
  | { type: 'access_token_revoked'; jti: string; until: number }

type Listener = (event: ChangeEvent) => void

/**
 * Tells every instance of a deployment what changed elsewhere: a key rotation or a revocation.
 * Over Redis pub/sub when configured; without Redis only this process hears its own events
 * (other processes still see the database, on their next poll).
 */
export class ChangeFeed {
  readonly #listeners: Listener[] = []
  #subscriber: Redis | undefined

  constructor(
    private readonly publisher: Redis | undefined,
    private readonly channel: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    if (!this.publisher) return
    const subscriber = this.publisher.duplicate({ enableOfflineQueue: true })
    this.#subscriber = subscriber
    subscriber.on('error', () => {})
    subscriber.on('message', (_channel: string, message: string) => {
      let event: ChangeEvent
      try {
        event = JSON.parse(message) as ChangeEvent
      } catch {
        return
      }
      this.#deliver(event)
    })
    await subscriber.subscribe(this.channel).catch((error: unknown) => {
      this.log.warn({ err: error }, 'cannot subscribe to the change feed; relying on database polling')
    })
  }

  on(listener: Listener): void {
    this.#listeners.push(listener)
  }

  /** Announces a change; local listeners hear it at once, other instances through Redis. */
  async publish(event: ChangeEvent): Promise<void> {
    if (!this.publisher) {
      this.#deliver(event)
      return
    }
    try {
      await this.publisher.publish(this.channel, JSON.stringify(event))
    } catch (error) {
      this.log.warn(
        { err: error, event: event.type },
        'change feed publish failed; other instances will see it on their next poll',
      )
      this.#deliver(event)
    }
  }

  #deliver(event: ChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        this.log.warn({ err: error }, 'change feed listener failed')
      }
    }
  }

  async close(): Promise<void> {
    await this.#subscriber?.quit().catch(() => {})
  }
}
