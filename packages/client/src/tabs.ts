import type { Tokens } from './storage.js'

/** The part of the Web Locks API the client uses (navigator.locks). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
}

/** The part of BroadcastChannel the client uses. */
export interface ChannelLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  close(): void
}

export type TabMessage = { type: 'tokens'; tokens: Tokens } | { type: 'logout'; reason: string }

/**
 * Coordinates the tabs of one origin. Refreshes run under a Web Lock, so only one tab presents
 * a given refresh token; results and logouts are broadcast so the other tabs adopt them instead
 * of refreshing again. Without these APIs each tab refreshes on its own (single flight still
 * holds within the tab, and the server's grace window absorbs the rest).
 */
export class TabCoordinator {
  readonly #channel: ChannelLike | undefined

  constructor(
    private readonly name: string,
    private readonly locks: LockManagerLike | undefined,
    channel: ChannelLike | undefined,
    onMessage: (message: TabMessage) => void,
  ) {
    this.#channel = channel
    channel?.addEventListener('message', (event) => {
      const data = event.data as TabMessage
      if (data && (data.type === 'tokens' || data.type === 'logout')) onMessage(data)
    })
  }

  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.locks ? this.locks.request(this.name, task) : task()
  }

  announce(message: TabMessage): void {
    this.#channel?.postMessage(message)
  }

  close(): void {
    this.#channel?.close()
  }
}

/** The browser's own APIs when they exist (Node has BroadcastChannel but no locks). */
export function browserTabs(name: string): {
  locks: LockManagerLike | undefined
  channel: ChannelLike | undefined
} {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator
  const locks = nav?.locks
  const Channel = (globalThis as { BroadcastChannel?: new (name: string) => ChannelLike }).BroadcastChannel
  const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined'
  return {
    locks: inBrowser ? locks : undefined,
    channel: inBrowser && Channel ? new Channel(name) : undefined,
  }
}
