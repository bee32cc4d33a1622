import { expect } from 'chai'
import { EntryGroup } from '../../src/koala/batcher'
import { renderRequest, type RenderedEntry } from '../../src/koala/rendered-request'
import { AdapterError } from '../../src/errors'
import { renderLeasedRequest } from '../../src/queue/leased-request'
import type { QueueStore } from '../../src/queue/queue-store'
import type { QueueStoreOptions } from '../../src/queue/queue-store-options'
import { accountOf, eventNames, identifyOf, settableClock, trackOf } from './queue-fixtures'

/** Opens a fresh, empty store of one implementation; the suite closes it. */
export type OpenStore = (options: QueueStoreOptions) => Promise<QueueStore>

const LEASE = { maxPeople: 10, maxPerKind: 30, leaseMs: 60_000 }
const ANN = 'ann@example.com'
const BOB = 'bob@example.com'

/** What every QueueStore promises, run against each implementation on a real store. */
export function describeQueueStoreContract(open: OpenStore): void {
  const opened: QueueStore[] = []
  let clock = settableClock(1_000_000)
  const fresh = async (options: QueueStoreOptions = {}) => {
    const store = await open({ now: clock.now, ...options })
    opened.push(store)
    return store
  }
  beforeEach(() => {
    clock = settableClock(1_000_000)
  })
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close()
  })

  it('leases a person\'s entries in order, and they rebuild the request the door\'s entries make', async () => {
    const store = await fresh()
    const entries = [trackOf(ANN, 1), identifyOf(ANN), trackOf(ANN, 2)]
    const ids = await store.append('acme', entries)
    expect(ids).to.have.length(3)
    expect([...ids].sort((a, b) => a - b)).to.deep.equal(ids)
    const [leased, ...others] = await store.lease('a', LEASE)
    expect(others).to.deep.equal([])
    expect(leased).to.include({ workspace: 'acme', endpoint: 'batch', key: entries[0].key, takenOver: false })
    expect(leased.entries.map((entry) => entry.id)).to.deep.equal(ids)
    expect(leased.entries[0]).to.include({ messageId: 'm1', attempts: 0, enqueuedAt: 1_000_000, workspace: 'acme' })
    const group = new EntryGroup<RenderedEntry>(entries[0])
    for (const entry of entries) group.tryAdd(entry, 30)
    expect(renderLeasedRequest(leased.entries, 30)).to.deep.equal(renderRequest(group))
  })

  it('leases what one Koala request takes: 30 per kind, and never an entry ahead of an older one', async () => {
    const store = await fresh()
    const events = Array.from({ length: 35 }, (_, i) => trackOf(ANN, i))
    await store.append('acme', [...events, identifyOf(ANN)])
    const [first] = await store.lease('a', LEASE)
    expect(eventNames(first.entries)).to.deep.equal(events.slice(0, 30).map((_, i) => `e${i}`))
    await store.ack('a', first.entries.map((entry) => entry.id))
    const [second] = await store.lease('a', LEASE)
    expect(eventNames(second.entries)).to.deep.equal(['e30', 'e31', 'e32', 'e33', 'e34', 'identify'])
  })

  it('leases people and accounts apart, oldest first, each to one owner until it is settled', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1), accountOf('acme.com')])
    await store.append('acme', [trackOf(BOB, 2)])
    const firstLease = await store.lease('a', { ...LEASE, maxPeople: 2 })
    expect(firstLease.map((person) => person.endpoint)).to.deep.equal(['batch', 'accounts/batch'])
    expect(await store.lease('a', LEASE), 'what an owner holds is not leased to it twice').to.have.length(1)
    expect(await store.lease('b', LEASE)).to.deep.equal([])
    await store.ack('a', firstLease[0].entries.map((entry) => entry.id))
    expect(await store.lease('b', LEASE)).to.deep.equal([])
    await store.append('acme', [trackOf(ANN, 3)])
    const [again] = await store.lease('b', LEASE)
    expect(eventNames(again.entries)).to.deep.equal(['e3'])
  })

  it('takes over a lease once it expired, counts it, and a stale owner cannot end the new lease', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1), trackOf(ANN, 2)])
    const [held] = await store.lease('a', { ...LEASE, leaseMs: 100 })
    expect(await store.lease('b', { ...LEASE, now: 1_000_099 })).to.deep.equal([])
    const [taken] = await store.lease('b', { ...LEASE, now: 1_000_100 })
    expect(taken.takenOver).to.equal(true)
    expect(taken.entries.map((entry) => entry.id)).to.deep.equal(held.entries.map((entry) => entry.id))
    expect(store.counters.takeovers).to.equal(1)
    await store.retryLater('a', [held.entries[0].id], 4_000_000, 'stale')
    await store.append('acme', [trackOf(ANN, 3)])
    expect(await store.lease('c', { ...LEASE, now: 1_000_200 }), 'b still holds ann').to.deep.equal([])
    await store.ack('b', taken.entries.map((entry) => entry.id))
    const [next] = await store.lease('c', { ...LEASE, now: 1_000_200 })
    expect(eventNames(next.entries)).to.deep.equal(['e3'])
    expect(next.takenOver).to.equal(false)
  })

  it('ends the settling owner\'s lease by its person when a stale owner already settled its entries', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1), trackOf(ANN, 2), trackOf(ANN, 3)])
    const oneEach = { ...LEASE, maxPerKind: 1 }
    const [stale] = await store.lease('a', { ...oneEach, leaseMs: 100 })
    const [taken] = await store.lease('b', { ...oneEach, now: 1_000_100 })
    const person = { workspace: taken.workspace, key: taken.key }
    await store.ack('a', stale.entries.map((entry) => entry.id))
    await store.ack('b', taken.entries.map((entry) => entry.id), person)
    const [next] = await store.lease('c', { ...oneEach, now: 1_000_200 })
    expect(next && eventNames(next.entries), 'b\'s lease ended with its ack').to.deep.equal(['e2'])
    await store.ack('c', next.entries.map((entry) => entry.id))
    // The same for a retry whose entries are gone: the person is free again at once.
    const [again] = await store.lease('d', { ...oneEach, now: 1_000_300 })
    await store.append('acme', [trackOf(ANN, 4)])
    await store.ack('e', again.entries.map((entry) => entry.id))
    await store.retryLater('d', again.entries.map((entry) => entry.id), 8_000_000, 'stale', { workspace: again.workspace, key: again.key })
    expect(eventNames((await store.lease('f', { ...oneEach, now: 1_000_400 }))[0]?.entries ?? [])).to.deep.equal(['e4'])
  })

  it('lingers: a person is due once its oldest entry waited lingerMs, or at once with a full request of one kind', async () => {
    const store = await fresh()
    const linger = { ...LEASE, maxPerKind: 3, lingerMs: 250 }
    await store.append('acme', [trackOf(ANN, 1)])
    clock.advance(100)
    await store.append('acme', [trackOf(ANN, 2), trackOf(BOB, 3), identifyOf(BOB), trackOf(BOB, 4)])
    expect(await store.lease('a', { ...linger, now: 1_000_249 }), 'nobody waited 250 ms, and nobody has 3 of a kind').to.deep.equal([])
    const [ann, ...others] = await store.lease('a', { ...linger, now: 1_000_250 })
    expect(others).to.deep.equal([])
    expect(eventNames(ann.entries)).to.deep.equal(['e1', 'e2'])
    await store.append('acme', [trackOf(BOB, 5)])
    const [bob] = await store.lease('a', { ...linger, now: 1_000_251 })
    expect(eventNames(bob.entries), 'a full request does not wait').to.deep.equal(['e3', 'identify', 'e4', 'e5'])
  })

  it('retries later in order: a person\'s later entries wait behind the failed ones', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1), trackOf(ANN, 2)])
    await store.append('acme', [trackOf(BOB, 9)])
    const leased = await store.lease('a', LEASE)
    await store.append('acme', [trackOf(ANN, 3)])
    const ann = leased.find((person) => person.key === trackOf(ANN, 0).key)!
    await store.retryLater('a', ann.entries.map((entry) => entry.id), 5_000, 'Koala answered 503')
    await store.ack('a', leased.find((person) => person !== ann)!.entries.map((entry) => entry.id))
    expect(await store.lease('a', { ...LEASE, now: 1_004_999 })).to.deep.equal([])
    const [again] = await store.lease('a', { ...LEASE, now: 1_005_000 })
    expect(eventNames(again.entries)).to.deep.equal(['e1', 'e2', 'e3'])
    expect(again.entries.map((entry) => entry.attempts)).to.deep.equal([1, 1, 0])
  })

  it('dead-letters with Koala\'s answer, lists, retries in the original order, and purges one workspace', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1), trackOf(ANN, 2)])
    await store.append('globex', [trackOf(BOB, 7)])
    const leased = await store.lease('a', LEASE)
    const ann = leased.find((person) => person.workspace === 'acme')!
    await store.deadLetter('a', ann.entries.map((entry) => entry.id), 'Koala 400: {"error":"bad"}')
    await store.append('acme', [trackOf(ANN, 3)])
    const dead = await store.listDeadLetters({ workspace: 'acme', limit: 10 })
    expect(dead.map((letter) => letter.reason)).to.deep.equal(['Koala 400: {"error":"bad"}', 'Koala 400: {"error":"bad"}'])
    expect(eventNames(dead)).to.deep.equal(['e1', 'e2'])
    expect(await store.listDeadLetters({ limit: 1 })).to.have.length(1)
    expect(await store.retryDeadLetters({ workspace: 'acme' })).to.equal(2)
    expect(await store.listDeadLetters({ limit: 10 })).to.deep.equal([])
    const [back] = await store.lease('b', LEASE)
    expect(eventNames(back.entries)).to.deep.equal(['e1', 'e2', 'e3'])
    await store.deadLetter('b', [back.entries[2].id], 'Koala 422')
    expect(await store.purge({ workspace: 'acme' })).to.deep.equal({ entries: 2, deadLetters: 1 })
    const status = await store.status()
    expect(status.workspaces.map((w) => [w.workspace, w.depth, w.deadLetters])).to.deep.equal([['globex', 1, 0]])
  })

  it('does not lease a paused workspace until it is resumed', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1)])
    await store.pauseWorkspace('acme', 'Koala 401: key refused')
    expect(await store.lease('a', LEASE)).to.deep.equal([])
    expect((await store.status()).workspaces[0]).to.include({ workspace: 'acme', paused: true, pausedReason: 'Koala 401: key refused', depth: 1 })
    await store.resumeWorkspace('acme')
    expect(await store.lease('a', LEASE)).to.have.length(1)
  })

  it('leases only the workspaces named, when a list is given: the others\' people stay due for another owner', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1)])
    await store.append('globex', [trackOf(BOB, 2)])
    expect(await store.lease('a', { ...LEASE, workspaces: [] })).to.deep.equal([])
    expect((await store.lease('a', { ...LEASE, workspaces: ['acme', 'initech'] })).map((p) => p.workspace)).to.deep.equal(['acme'])
    expect((await store.lease('b', LEASE)).map((p) => p.workspace)).to.deep.equal(['globex'])
  })

  it('sweeps entries past the maximum age to the dead letters, but not a leased person\'s', async () => {
    const store = await fresh()
    await store.append('acme', [trackOf(ANN, 1)])
    await store.append('acme', [trackOf(BOB, 2)])
    await store.lease('a', { ...LEASE, maxPeople: 1 })
    clock.advance(10_000)
    await store.append('acme', [trackOf(BOB, 3)])
    expect(await store.sweepExpired(5_000)).to.equal(1)
    expect(eventNames(await store.listDeadLetters({ limit: 10 }))).to.deep.equal(['e2'])
    expect((await store.listDeadLetters({ limit: 10 }))[0].reason).to.match(/^expired/)
    expect((await store.status()).depth).to.equal(2)
  })

  it('sweeps a backlog larger than one batch, batch by batch, and counts it all', async () => {
    const store = await fresh({ sweepBatch: 2 })
    await store.append('acme', [trackOf(ANN, 1), trackOf(ANN, 2), trackOf(BOB, 3)])
    await store.append('globex', [trackOf(ANN, 4), trackOf(BOB, 5)])
    clock.advance(10_000)
    expect(await store.sweepExpired(5_000)).to.equal(5)
    expect(eventNames(await store.listDeadLetters({ limit: 10 }))).to.deep.equal(['e1', 'e2', 'e3', 'e4', 'e5'])
    expect((await store.status()).depth).to.equal(0)
  })

  it('reports depth, bytes, oldest age and dead letters per workspace', async () => {
    const store = await fresh()
    const entries = [trackOf(ANN, 1), trackOf(BOB, 2)]
    await store.append('acme', entries)
    clock.advance(3_000)
    await store.append('globex', [trackOf(ANN, 3)])
    clock.advance(1_000)
    const status = await store.status()
    const bytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.key) + Buffer.byteLength(entry.text) + Buffer.byteLength(entry.bodyFields ?? ''), 0)
    expect(status.workspaces).to.deep.equal([
      { workspace: 'acme', depth: 2, bytes, oldestAgeMs: 4_000, deadLetters: 0, paused: false },
      { workspace: 'globex', depth: 1, bytes: bytes / 2, oldestAgeMs: 1_000, deadLetters: 0, paused: false }
    ])
    expect(status).to.include({ depth: 3, deadLetters: 0 })
  })

  it('refuses an append past maxEntries or maxBytes with QUEUE_FULL and stores nothing of it, while the rest of its group is stored', async () => {
    const store = await fresh({ maxEntries: 4, maxBytes: 10_000 })
    await store.append('acme', [trackOf(ANN, 1), trackOf(ANN, 2)])
    const results = await Promise.allSettled([store.append('acme', [trackOf(BOB, 3), trackOf(BOB, 4), trackOf(BOB, 5)]), store.append('acme', [trackOf(BOB, 6)])])
    expect(results[0].status).to.equal('rejected')
    const error = (results[0] as PromiseRejectedResult).reason as AdapterError
    expect(error).to.be.instanceOf(AdapterError)
    expect(error.code).to.equal('QUEUE_FULL')
    expect(results[1].status).to.equal('fulfilled')
    expect((await store.status()).depth).to.equal(3)
    const big = { ...trackOf(BOB, 7), text: JSON.stringify({ type: 'track', event: 'x'.repeat(10_000) }) }
    const refused = await store.append('acme', [big]).catch((reason: unknown) => reason)
    expect(refused).to.have.property('code', 'QUEUE_FULL')
    expect((await store.status()).depth).to.equal(3)
  })

  it('shares one commit among concurrent appends (group commit), each one stored', async () => {
    const store = await fresh()
    const appends = Array.from({ length: 50 }, (_, i) => store.append('acme', [trackOf(`p${i}@example.com`, i)]))
    const ids = await Promise.all(appends)
    expect(new Set(ids.flat()).size).to.equal(50)
    expect(store.counters.appends).to.equal(50)
    expect(store.counters.commits).to.be.at.least(1).and.below(50)
    expect((await store.status()).depth).to.equal(50)
  })
}
