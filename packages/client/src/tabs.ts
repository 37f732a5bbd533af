import { sleep } from './retry.js'
import type { Tokens } from './storage.js'

/** The part of the Web Locks API the client uses (`navigator.locks`). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
}

/** The part of `BroadcastChannel` the client uses. */
export interface ChannelLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
  close(): void
}

/** What one tab tells the others. */
export type TabMessage = { type: 'tokens'; tokens: Tokens } | { type: 'logout'; reason: string }

function isTabMessage(data: unknown): data is TabMessage {
  if (typeof data !== 'object' || data === null) return false
  const message = data as { type?: unknown; tokens?: Partial<Tokens>; reason?: unknown }
  if (message.type === 'logout') return typeof message.reason === 'string'
  return (
    message.type === 'tokens' &&
    typeof message.tokens?.accessToken === 'string' &&
    typeof message.tokens.expiresAt === 'number' &&
    typeof message.tokens.issuedAt === 'number'
  )
}

/**
 * Coordinates the tabs of one origin. Refreshes run under a Web Lock, so only one tab presents
 * a given refresh token; results and logouts are broadcast so the other tabs adopt them instead
 * of refreshing again. Without these APIs each tab refreshes on its own (single flight still
 * holds within the tab, and the server's grace window absorbs the rest).
 *
 * @example
 * const tabs = new TabCoordinator('tessera:https://auth.example.com:web', navigator.locks,
 *   new BroadcastChannel('tessera:https://auth.example.com:web'), (message) => adopt(message))
 * await tabs.exclusive(() => refreshOnce())
 */
export class TabCoordinator {
  readonly #name: string
  readonly #locks: LockManagerLike | undefined
  readonly #channel: ChannelLike | undefined
  readonly #settleMs: number

  constructor(
    name: string,
    locks: LockManagerLike | undefined,
    channel: ChannelLike | undefined,
    onMessage: (message: TabMessage) => void,
    settleMs = 100,
  ) {
    this.#name = name
    this.#settleMs = settleMs
    this.#locks = locks
    this.#channel = channel
    channel?.addEventListener('message', (event) => {
      if (isTabMessage(event.data)) onMessage(event.data)
    })
  }

  /**
   * Runs `task` while no other tab of this issuer and client runs one.
   *
   * @example
   * const tokens = await tabs.exclusive(() => presentRefreshToken())
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const locks = this.#locks
    if (!locks) return task()
    return new Promise<T>((resolve, reject) => {
      locks
        .request(this.#name, async () => {
          try {
            resolve(await task())
          } catch (error) {
            reject(error)
            return
          }
          // Storage writes and broadcasts reach other tabs asynchronously (Chromium copies
          // localStorage between renderer processes in the background). Holding the lock a moment
          // longer lets the next tab read the rotated tokens instead of presenting the old
          // refresh token again; this tab's callers already have their answer.
          await sleep(this.#settleMs)
        })
        .catch(reject)
    })
  }

  /**
   * Tells the other tabs about new tokens or a logout.
   *
   * @example
   * tabs.announce({ type: 'logout', reason: 'logout' })
   */
  announce(message: TabMessage): void {
    this.#channel?.postMessage(message)
  }

  /**
   * Stops listening to the other tabs.
   *
   * @example
   * tabs.close()
   */
  close(): void {
    this.#channel?.close()
  }
}

/**
 * The runtime's own coordination APIs: Web Locks wherever `navigator.locks` exists, and a
 * `BroadcastChannel` in browsers and workers. Node gets neither by default — a server process is
 * one "tab", and an open channel there would keep it alive.
 *
 * @example
 * const { locks, channel } = browserTabs('tessera:https://auth.example.com:web')
 */
export function browserTabs(name: string): {
  locks: LockManagerLike | undefined
  channel: ChannelLike | undefined
} {
  const scope = globalThis as {
    navigator?: { locks?: LockManagerLike }
    BroadcastChannel?: new (name: string) => ChannelLike
    document?: unknown
    WorkerGlobalScope?: unknown
  }
  const locks = typeof scope.navigator?.locks?.request === 'function' ? scope.navigator.locks : undefined
  const webPage = scope.document !== undefined || scope.WorkerGlobalScope !== undefined
  return {
    locks,
    channel: webPage && scope.BroadcastChannel ? new scope.BroadcastChannel(name) : undefined,
  }
}
