import { expect } from 'chai'
import path from 'node:path'
import { AdapterError } from '../../src/errors'
import { THREAD_RESTART_MS, ThreadedSqliteQueueStore } from '../../src/queue/threaded-sqlite-queue-store'
import { tempDir } from '../support/temp-dir'
import { settableClock, trackOf } from './queue-fixtures'

/** The rejection of `promise`, which must reject. */
async function rejectionOf(promise: Promise<unknown>): Promise<AdapterError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error
  )
  expect(outcome).to.be.instanceOf(AdapterError)
  return outcome as AdapterError
}

describe('the SQLite store in its own thread', () => {
  const stores: ThreadedSqliteQueueStore[] = []
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
  })
  const open = async (options: Parameters<typeof ThreadedSqliteQueueStore.open>[1] = {}) => {
    const store = await ThreadedSqliteQueueStore.open(path.join(tempDir('queue-thread-'), 'queue.db'), options)
    stores.push(store)
    return store
  }
  /** Ends the store's thread as a crash would. */
  const killThread = (store: ThreadedSqliteQueueStore) => (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate()

  it('when its thread dies: what waited fails with QUEUE_WRITE_FAILED, it is told, and a call a second later starts a new thread on the same file', async () => {
    const file = path.join(tempDir('queue-thread-'), 'queue.db')
    const clock = settableClock(1_000_000)
    const first = await ThreadedSqliteQueueStore.open(file, { now: clock.now })
    await first.append('acme', [trackOf('ann@example.com', 1)])
    await first.close()
    const told: string[] = []
    // A group window of a minute: the next append waits in the thread, uncommitted, when it dies.
    const store = await ThreadedSqliteQueueStore.open(file, { now: clock.now, groupWindowMs: 60_000, onThreadFailure: (message) => told.push(message) })
    stores.push(store)
    const waiting = store.append('acme', [trackOf('ann@example.com', 2)])
    await killThread(store)
    expect((await rejectionOf(waiting)).code).to.equal('QUEUE_WRITE_FAILED')
    expect(told).to.have.length(1)
    expect(told[0]).to.match(/the SQLite queue thread stopped/)
    expect((await rejectionOf(store.status())).code, 'not started again at once').to.equal('QUEUE_WRITE_FAILED')
    clock.advance(THREAD_RESTART_MS)
    const [leased] = await store.lease('run', { maxPeople: 1, maxPerKind: 30, leaseMs: 60_000 })
    expect(leased.entries.map((entry) => entry.messageId), 'what was committed is there; the append that failed is not').to.deep.equal(['m1'])
    expect(told).to.have.length(1)
  })

  it('closes cleanly after its thread died, and a call after close fails with QUEUE_WRITE_FAILED', async () => {
    const store = await open()
    await killThread(store)
    await store.close()
    expect((await rejectionOf(store.status())).code).to.equal('QUEUE_WRITE_FAILED')
  })

  it('sends back what is not an AdapterError as QUEUE_WRITE_FAILED (the door\'s 503), with no stack trace to reach an answer', async () => {
    const store = await open()
    const call = (store as unknown as { call(method: string): Promise<unknown> }).call.bind(store)
    const error = await rejectionOf(call('noSuchMethod'))
    expect(error.code).to.equal('QUEUE_WRITE_FAILED')
    expect(error.message).to.not.match(/\n\s+at |node_modules|\.ts:/)
    expect((await store.status()).depth, 'the thread serves on').to.equal(0)
  })

  it('refuses to open with the store\'s own error code (CONFIG_INVALID), and ends its thread', async () => {
    const dir = tempDir('queue-thread-')
    const error = await rejectionOf(ThreadedSqliteQueueStore.open(path.join(dir, 'missing-folder', 'queue.db')))
    expect(error.code).to.equal('CONFIG_INVALID')
  })
})
