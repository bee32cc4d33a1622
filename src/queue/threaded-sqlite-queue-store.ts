import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { AdapterError, type ErrorCode } from '../errors'
import type { DeadLetter, LeasedPerson, LeaseOptions, PersonKey, QueueCounters, QueueEntryInput, QueueStatus, QueueStore } from './queue-store'
import type { QueueStoreOptions } from './queue-store-options'
import type { SqliteThreadSetup, StoreAnswer, StoreCall, StoreMethod, ThreadError } from './sqlite-thread-messages'

const ENTRY = path.join(__dirname, 'sqlite-thread-entry.js')
/** A thread that died is started again by the first call this long after, not sooner: a store that fails at once must not spin. */
export const THREAD_RESTART_MS = 1_000
type Pending = { resolve(value: unknown): void; reject(error: Error): void }

/**
 * The SQLite store as the service runs it: SqliteQueueStore in a thread of its own, called by
 * messages. better-sqlite3 is synchronous, so in the main thread every group commit held the
 * event loop for its statements and its fsync, and so did every lease and settle (BENCHMARKS.md:
 * the door's p99 halved). Same contract, same file; a test's fake clock rides on each call.
 * A thread that dies fails what waited on it with QUEUE_WRITE_FAILED (doors answer 503, the
 * sender sends again), is reported through onThreadFailure, and is started again by the next
 * call a second later: nothing acknowledged is lost, since only commits are acknowledged.
 */
export class ThreadedSqliteQueueStore implements QueueStore {
  readonly kind = 'sqlite'
  counters: QueueCounters = { commits: 0, appends: 0, takeovers: 0 }
  /** Leases a killed run left, ended at open (soleDeliverer). */
  orphansReleased = 0
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private worker!: Worker
  /** Set while the thread is gone: calls fail with it until one starts a new thread. */
  private failure: AdapterError | undefined
  private restartAt = 0
  private closing: Promise<void> | undefined

  private constructor(
    readonly file: string,
    private readonly setup: SqliteThreadSetup,
    private readonly options: QueueStoreOptions
  ) {
    this.spawn()
  }

  /** Opens `file` in a new thread; rejects as SqliteQueueStore's constructor throws (CONFIG_INVALID). */
  static open(file: string, options: QueueStoreOptions = {}): Promise<ThreadedSqliteQueueStore> {
    const { now, onThreadFailure: _told, ...rest } = options
    const setup: SqliteThreadSetup = { file, options: rest, ...(now === undefined ? {} : { clockStart: now() }) }
    const store = new ThreadedSqliteQueueStore(file, setup, options)
    return new Promise((resolve, reject) => {
      store.pending.set(0, {
        resolve: () => resolve(store),
        reject: (error) => {
          store.closing = store.worker.terminate().then(() => undefined)
          reject(error)
        }
      })
    })
  }

  append(workspace: string, entries: readonly QueueEntryInput[]): Promise<number[]> {
    return this.call('append', workspace, entries)
  }
  lease(owner: string, options: LeaseOptions): Promise<LeasedPerson[]> {
    return this.call('lease', owner, options)
  }
  ack(owner: string, ids: readonly number[], person?: PersonKey): Promise<void> {
    return this.call('ack', owner, ids, person)
  }
  retryLater(owner: string, ids: readonly number[], delayMs: number, reason: string, person?: PersonKey): Promise<void> {
    return this.call('retryLater', owner, ids, delayMs, reason, person)
  }
  deadLetter(owner: string, ids: readonly number[], reason: string, person?: PersonKey): Promise<void> {
    return this.call('deadLetter', owner, ids, reason, person)
  }
  pauseWorkspace(workspace: string, reason: string): Promise<void> {
    return this.call('pauseWorkspace', workspace, reason)
  }
  resumeWorkspace(workspace: string): Promise<void> {
    return this.call('resumeWorkspace', workspace)
  }
  sweepExpired(maxAgeMs: number): Promise<number> {
    return this.call('sweepExpired', maxAgeMs)
  }
  status(): Promise<QueueStatus> {
    return this.call('status')
  }
  listDeadLetters(options: { workspace?: string; limit: number }): Promise<DeadLetter[]> {
    return this.call('listDeadLetters', options)
  }
  retryDeadLetters(options: { workspace?: string }): Promise<number> {
    return this.call('retryDeadLetters', options)
  }
  purge(options: { workspace: string }): Promise<{ entries: number; deadLetters: number }> {
    return this.call('purge', options)
  }

  /** Commits what is pending and closes the file in the thread, then ends the thread; a thread already gone has nothing left to close. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      const closed = this.failure === undefined ? this.call<void>('close') : Promise.resolve()
      this.closing = closed.finally(() => this.worker.terminate()).then(() => undefined)
    }
    return this.closing
  }

  /** The store's clock: a test's, else real time. */
  private clock(): number {
    return this.options.now?.() ?? Date.now()
  }

  private spawn(): void {
    const worker = new Worker(ENTRY, { workerData: this.setup })
    this.worker = worker
    worker.on('message', (answer: StoreAnswer) => this.settle(answer))
    worker.on('messageerror', (error) => this.fail(worker, `an answer of the SQLite queue thread could not be read: ${error.message}`))
    worker.on('error', (error) => this.fail(worker, `the SQLite queue thread failed: ${error.message}`))
    worker.on('exit', (code) => this.fail(worker, `the SQLite queue thread stopped (exit code ${code})`))
  }

  private call<T>(method: StoreMethod, ...args: unknown[]): Promise<T> {
    if (this.failure !== undefined) {
      if (this.closing !== undefined || this.clock() < this.restartAt) return Promise.reject(this.failure)
      // Calls queue behind the new thread's open; an open that fails fails them too (settle).
      this.failure = undefined
      this.spawn()
    }
    const id = this.nextId++
    const message: StoreCall = { id, method, args, ...(this.options.now === undefined ? {} : { now: this.options.now() }) }
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.worker.postMessage(message)
    })
  }

  private settle(answer: StoreAnswer): void {
    this.counters = answer.counters
    if (answer.orphansReleased !== undefined) this.orphansReleased = answer.orphansReleased
    const pending = this.pending.get(answer.id)
    if (pending === undefined) {
      // A restarted thread that could not open the file: what waits behind its open fails.
      if (answer.id === 0 && 'error' in answer) this.fail(this.worker, `the SQLite queue thread could not open the file again: ${answer.error.message}`)
      return
    }
    this.pending.delete(answer.id)
    if ('error' in answer) pending.reject(fromThread(answer.error))
    else pending.resolve(answer.value)
  }

  /** `worker` is gone: what waits on it fails with QUEUE_WRITE_FAILED (a door answers 503); told to onThreadFailure unless closing. */
  private fail(worker: Worker, message: string): void {
    if (worker !== this.worker || this.failure !== undefined) return // an old thread's last words, or told already
    this.failure = new AdapterError('QUEUE_WRITE_FAILED', message)
    this.restartAt = this.clock() + THREAD_RESTART_MS
    for (const pending of this.pending.values()) pending.reject(this.failure)
    this.pending.clear()
    void worker.terminate()
    if (this.closing === undefined) this.options.onThreadFailure?.(message)
  }
}

/** The thread's error as the store in this thread would have thrown it. */
function fromThread(error: ThreadError): AdapterError {
  return new AdapterError(error.code as ErrorCode, error.message, error.causeCode === undefined ? undefined : { cause: { code: error.causeCode } })
}
