import type { MessagePort } from 'node:worker_threads'
import { AdapterError } from '../errors'
import { SqliteQueueStore } from './sqlite-queue-store'
import type { SqliteThreadSetup, StoreAnswer, StoreCall, ThreadError } from './sqlite-thread-messages'

/**
 * The SQLite thread: opens the store the setup names and serves the main thread's calls on it,
 * so that better-sqlite3's synchronous statements, and each commit's wait for the disk, hold
 * this thread and not the one answering HTTP.
 */
export function serveSqliteThread(port: MessagePort, setup: SqliteThreadSetup): void {
  let callTime = Date.now()
  const now = setup.clockPerCall ? () => callTime : Date.now
  let store: SqliteQueueStore
  try {
    store = new SqliteQueueStore(setup.file, { ...optionsOf(setup), now })
  } catch (error) {
    port.postMessage({ id: 0, counters: { commits: 0, appends: 0, takeovers: 0 }, error: threadError(error) } satisfies StoreAnswer)
    return
  }
  port.postMessage({ id: 0, counters: store.counters, orphansReleased: store.orphansReleased, value: null } satisfies StoreAnswer)
  port.on('message', (call: StoreCall) => {
    if (call.now !== undefined) callTime = call.now
    const method = store[call.method] as (...args: unknown[]) => Promise<unknown>
    method.apply(store, call.args).then(
      (value) => port.postMessage({ id: call.id, counters: store.counters, value } satisfies StoreAnswer),
      (error: unknown) => port.postMessage({ id: call.id, counters: store.counters, error: threadError(error) } satisfies StoreAnswer)
    )
  })
}

function optionsOf(setup: SqliteThreadSetup) {
  const { maxEntries, maxBytes, groupWindowMs, soleDeliverer } = setup
  return { maxEntries, maxBytes, groupWindowMs, soleDeliverer }
}

function threadError(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { message: String(error) }
  const causeCode = (error.cause as { code?: unknown } | undefined)?.code
  return {
    code: error instanceof AdapterError ? error.code : undefined,
    message: error instanceof AdapterError ? error.message : (error.stack ?? error.message),
    causeCode: typeof causeCode === 'string' ? causeCode : undefined
  }
}
