import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { AdapterError, type ErrorCode } from '../errors'
import type { DeadLetter, LeasedPerson, LeaseOptions, PersonKey, QueueCounters, QueueEntryInput, QueueStatus, QueueStore } from './queue-store'
import type { QueueStoreOptions } from './queue-store-options'
import type { SqliteThreadSetup, StoreAnswer, StoreCall, StoreMethod, ThreadError } from './sqlite-thread-messages'

const ENTRY = path.join(__dirname, 'sqlite-thread-entry.js')
type Pending = { resolve(value: unknown): void; reject(error: Error): void }

/**
 * The SQLite store as the service runs it: SqliteQueueStore in a thread of its own, called by
 * messages. better-sqlite3 is synchronous, so in the main thread every group commit held the
 * event loop for its statements and its fsync, and so did every lease and settle: about a
 * quarter of the main thread under single-event webhooks (BENCHMARKS.md). Same contract,
 * same file; a test's fake clock rides on each call.
 */
export class ThreadedSqliteQueueStore implements QueueStore {
  readonly kind = 'sqlite'
  counters: QueueCounters = { commits: 0, appends: 0, takeovers: 0 }
  /** Leases a killed run left, ended at open (soleDeliverer). */
  orphansReleased = 0
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  /** Set once the thread is gone: every call after fails with it. */
  private failure: AdapterError | undefined
  private closing: Promise<void> | undefined

  private constructor(
    readonly file: string,
    private readonly worker: Worker,
    private readonly now: (() => number) | undefined
  ) {
    worker.on('message', (answer: StoreAnswer) => this.settle(answer))
    worker.on('error', (error) => this.fail(`the SQLite queue thread failed: ${error.message}`))
    worker.on('exit', (code) => this.fail(`the SQLite queue thread stopped (exit code ${code})`))
  }

  /** Opens `file` in a new thread; rejects as SqliteQueueStore's constructor throws (CONFIG_INVALID). */
  static open(file: string, options: QueueStoreOptions = {}): Promise<ThreadedSqliteQueueStore> {
    const { maxEntries, maxBytes, groupWindowMs, soleDeliverer, now } = options
    const setup: SqliteThreadSetup = { file, maxEntries, maxBytes, groupWindowMs, soleDeliverer, clockPerCall: now !== undefined }
    const store = new ThreadedSqliteQueueStore(file, new Worker(ENTRY, { workerData: setup }), now)
    return new Promise((resolve, reject) => {
      store.pending.set(0, {
        resolve: () => resolve(store),
        reject: (error) => {
          void store.worker.terminate()
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

  /** Commits what is pending and closes the file in the thread, then ends the thread. */
  close(): Promise<void> {
    this.closing ??= this.call<void>('close').finally(() => this.worker.terminate())
    return this.closing
  }

  private call<T>(method: StoreMethod, ...args: unknown[]): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const id = this.nextId++
    const message: StoreCall = { id, method, args, ...(this.now === undefined ? {} : { now: this.now() }) }
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.worker.postMessage(message)
    })
  }

  private settle(answer: StoreAnswer): void {
    this.counters = answer.counters
    if (answer.orphansReleased !== undefined) this.orphansReleased = answer.orphansReleased
    const pending = this.pending.get(answer.id)
    if (pending === undefined) return
    this.pending.delete(answer.id)
    if ('error' in answer) pending.reject(fromThread(answer.error))
    else pending.resolve(answer.value)
  }

  /** The thread is gone: what waits on it, and every call after, fails with QUEUE_WRITE_FAILED (a door answers 503). */
  private fail(message: string): void {
    if (this.failure !== undefined) return
    this.failure = new AdapterError('QUEUE_WRITE_FAILED', message)
    for (const pending of this.pending.values()) pending.reject(this.failure)
    this.pending.clear()
  }
}

/** The thread's error as the store in this thread would have thrown it. */
function fromThread(error: ThreadError): AdapterError {
  return new AdapterError((error.code ?? 'INTERNAL') as ErrorCode, error.message, error.causeCode === undefined ? undefined : { cause: { code: error.causeCode } })
}
