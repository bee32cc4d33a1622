import type { QueueCounters, QueueStore } from './queue-store'

/** The QueueStore methods the SQLite thread serves: every one but the properties. */
export type StoreMethod = Exclude<keyof QueueStore, 'kind' | 'counters'>

/** What opens the thread's store: the file and QueueStoreOptions without the clock, which cannot cross threads. */
export type SqliteThreadSetup = {
  file: string
  maxEntries?: number
  maxBytes?: number
  groupWindowMs?: number
  soleDeliverer?: boolean
  /** The main thread's clock rides on each call (a test's fake clock); else the thread reads Date.now. */
  clockPerCall: boolean
}

/** A call of the main thread: `now` is its clock's time when clockPerCall. */
export type StoreCall = { id: number; method: StoreMethod; args: unknown[]; now?: number }

/** What the thread answers a call (id 0: the store opened), with the store's counters after it. */
export type StoreAnswer = { id: number; counters: QueueCounters; orphansReleased?: number } & ({ value: unknown } | { error: ThreadError })

/** An error as it crosses back: AdapterError's code and message, and the driver's code (queueWriteFailed's cause). */
export type ThreadError = { code?: string; message: string; causeCode?: string }
