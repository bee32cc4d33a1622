import type { QueueCounters, QueueStore } from './queue-store'
import type { QueueStoreOptions } from './queue-store-options'

/** The QueueStore methods the SQLite thread serves: every one but the properties. */
export type StoreMethod = Exclude<keyof QueueStore, 'kind' | 'counters'>

/** What opens the thread's store: the file and its options but the functions, which cannot cross threads. */
export type SqliteThreadSetup = {
  file: string
  options: Omit<QueueStoreOptions, 'now' | 'onThreadFailure'>
  /** The main thread's clock at the start when it is a test's: its time then rides on each call. Else the thread reads Date.now. */
  clockStart?: number
}

/** A call of the main thread: `now` is its clock's time when the setup had clockStart. */
export type StoreCall = { id: number; method: StoreMethod; args: unknown[]; now?: number }

/** What the thread answers a call (id 0: the store opened), with the store's counters after it. */
export type StoreAnswer = { id: number; counters: QueueCounters; orphansReleased?: number } & ({ value: unknown } | { error: ThreadError })

/** An error as it crosses back: AdapterError's code and message, and the driver's code (queueWriteFailed's cause). */
export type ThreadError = { code: string; message: string; causeCode?: string }
