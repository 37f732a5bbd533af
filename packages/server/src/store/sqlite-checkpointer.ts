import { Worker } from 'node:worker_threads'

// Runs in its own thread with its own connection to the same database file.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path, { timeout: 1000 })
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
const timer = setInterval(() => {
  try { checkpoint.get() } catch {}
}, workerData.intervalMs)
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer)
    try { db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() } catch {}
    db.close()
    parentPort.postMessage('stopped')
  }
})
parentPort.postMessage('ready')
`

/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits
 * also checkpoints every thousand pages, copying them into the database file and syncing it
 * while every request waits — the longest pauses in the refresh path. A worker thread with its
 * own connection checkpoints a few times a second instead (PASSIVE: it never blocks writers),
 * and the main connection stops checkpointing only once the worker is running.
 */
export class SqliteCheckpointer {
  readonly #worker: Worker

  private constructor(worker: Worker) {
    this.#worker = worker
  }

  static async start(
    path: string,
    driver: string,
    intervalMs = 250,
  ): Promise<SqliteCheckpointer | undefined> {
    const worker = new Worker(WORKER, { eval: true, workerData: { path, driver, intervalMs } })
    worker.unref()
    const ready = await new Promise<boolean>((resolve) => {
      worker.once('message', (message) => resolve(message === 'ready'))
      worker.once('error', () => resolve(false))
    })
    if (!ready) {
      await worker.terminate()
      return undefined
    }
    return new SqliteCheckpointer(worker)
  }

  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.#worker.once('message', () => resolve())
      this.#worker.once('exit', () => resolve())
    })
    this.#worker.postMessage('stop')
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))])
    await this.#worker.terminate()
  }
}
