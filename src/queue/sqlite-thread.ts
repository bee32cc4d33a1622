import type { MessagePort } from 'node:worker_threads'
import { AdapterError } from '../errors'
import { queueWriteFailed } from './queue-errors'
import { SqliteQueueStore } from './sqlite-queue-store'
import type { SqliteThreadSetup, StoreAnswer, StoreCall, ThreadError } from './sqlite-thread-messages'

/**
 * The SQLite thread: opens the store the setup names and serves the main thread's calls on it,
 * so that better-sqlite3's synchronous statements, and each commit's wait for the disk, hold
 * this thread and not the one answering HTTP.
 */
export function serveSqliteThread(port: MessagePort, setup: SqliteThreadSetup): void {
  let callTime = setup.clockStart ?? Date.now()
  const now = setup.clockStart === undefined ? Date.now : () => callTime
  let store: SqliteQueueStore
  try {
    store = new SqliteQueueStore(setup.file, { ...setup.options, now })
  } catch (error) {
    port.postMessage({ id: 0, counters: { commits: 0, appends: 0, takeovers: 0 }, error: threadError(error) } satisfies StoreAnswer)
    return
  }
  port.postMessage({ id: 0, counters: store.counters, orphansReleased: store.orphansReleased, value: null } satisfies StoreAnswer)
  port.on('message', (call: StoreCall) => {
    if (call.now !== undefined) callTime = call.now
    const method = store[call.method] as (...args: unknown[]) => Promise<unknown>
    let result: Promise<unknown>
    try {
      result = method.apply(store, call.args)
    } catch (error) {
      result = Promise.reject(error)
    }
    result.then(
      (value) => port.postMessage({ id: call.id, counters: store.counters, value } satisfies StoreAnswer),
      (error: unknown) => port.postMessage({ id: call.id, counters: store.counters, error: threadError(error) } satisfies StoreAnswer)
    )
  })
}

/**
 * An error as it crosses back. What is not an AdapterError is a failure of the driver or the
 * file: QUEUE_WRITE_FAILED (the door's 503; the sender sends again) with the driver's code and
 * message, never its stack, which names our paths and would reach the answer.
 */
function threadError(error: unknown): ThreadError {
  const known = error instanceof AdapterError ? error : queueWriteFailed('a queue operation', error)
  const causeCode = (known.cause as { code?: unknown } | undefined)?.code
  return { code: known.code, message: known.message, causeCode: typeof causeCode === 'string' ? causeCode : undefined }
}
