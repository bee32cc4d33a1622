import { expect } from 'chai'
import nock from 'nock'
import path from 'node:path'
import pino from 'pino'
import { createKoalaClient } from '../../src/koala/koala-client'
import { startDeliverer, type Deliverer, type DelivererDeps, type SettledRequest } from '../../src/queue/deliverer'
import { openSqlite } from '../../src/queue/sqlite-connection'
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store'
import { LogCapture } from '../server/service-harness'
import { fakeClock, type FakeClock } from '../support/fake-clock'
import { heldReply } from '../support/held-reply'
import { tempDir } from '../support/temp-dir'
import { until } from '../support/until'
import { eventNames, trackOf } from './queue-fixtures'

const KOALA = 'http://koala.test'
const KEY = 'pk_deliverer'
const BATCH = `/web/projects/${KEY}/batch`
const TARGET = { baseUrl: `${KOALA}/web/projects`, publicApiKey: KEY }
const START = 1_000_000
const LINGER_MS = 250
const PROBE_MS = 60_000
const ANN = 'ann@example.com'

describe('the deliverer', function () {
  this.timeout(20_000)
  let clock: FakeClock
  let file: string
  let store: SqliteQueueStore
  let logs: LogCapture
  let deliverer: Deliverer | undefined
  let settled: SettledRequest[]
  /** The bodies Koala received, in order. */
  let received: any[]

  beforeEach(() => {
    nock.disableNetConnect()
    clock = fakeClock(START)
    file = path.join(tempDir('deliverer-'), 'queue.db')
    store = new SqliteQueueStore(file, { now: clock.now })
    logs = new LogCapture()
    settled = []
    received = []
  })
  afterEach(async () => {
    await deliverer?.stop()
    deliverer = undefined
    await store.close()
    nock.cleanAll()
    nock.enableNetConnect()
  })

  const start = (overrides: Partial<DelivererDeps> = {}): Deliverer => {
    // No retries inside the client: each Koala request the test counts is one HTTP attempt.
    const client = createKoalaClient({ koalaMaxSockets: 4, koalaTimeoutMs: 2_000, koalaBackoffBaseMs: 10, koalaBackoffMaxMs: 50 }, { maxRetries: 0 }, {}, { now: clock.now, setTimer: clock.setTimer, sleep: clock.sleep })
    deliverer = startDeliverer({
      store,
      client,
      targetOf: (workspace) => (workspace === 'acme' ? TARGET : undefined),
      policy: { concurrency: 4, budgetMs: 10_000, maxRetries: 0 },
      lingerMs: LINGER_MS,
      maxAgeMs: 7 * 24 * 3600_000,
      leaseMs: 60_000,
      owner: 'replica-1',
      logger: pino({ level: 'info' }, logs),
      now: clock.now,
      setTimer: clock.setTimer,
      random: () => 0.5,
      pauseProbeMs: PROBE_MS,
      onRequest: (info) => settled.push(info),
      ...overrides
    })
    return deliverer
  }
  /** Koala answers `status` to the next `times` requests, keeping each body. */
  const koala = (status: number, body: unknown = { ok: true }, headers: Record<string, string> = {}, times = 1) =>
    nock(KOALA)
      .post(BATCH)
      .times(times)
      .reply((_uri, requestBody) => {
        received.push(typeof requestBody === 'string' ? JSON.parse(requestBody) : requestBody)
        return [status, body, headers]
      })
  const depth = async () => (await store.status()).depth

  it('batches across appends: 50 single-event appends of 5 people become 5 Koala requests, each person\'s events in order', async () => {
    const people = ['p0', 'p1', 'p2', 'p3', 'p4'].map((name) => `${name}@example.com`)
    koala(200, { ok: true }, {}, 50)
    const d = start()
    for (let n = 0; n < 50; n++) {
      await store.append('acme', [trackOf(people[n % 5], n)])
      d.wake()
    }
    expect(received, 'nothing is sent while the people linger').to.deep.equal([])
    clock.advance(LINGER_MS + 1)
    await until(async () => (await depth()) === 0, { what: 'every entry delivered and acknowledged' })
    expect(received).to.have.length(5)
    for (const body of received) {
      const n0 = people.indexOf(body.email)
      expect(eventNames(body.events.map((event: unknown) => ({ text: JSON.stringify(event) })))).to.deep.equal(Array.from({ length: 10 }, (_, i) => `e${n0 + 5 * i}`))
    }
    expect(settled.map((request) => request.entries)).to.deep.equal([10, 10, 10, 10, 10])
  })

  it('sends a failed request again once Koala\'s Retry-After has passed, not before', async () => {
    koala(503, { error: 'busy' }, { 'Retry-After': '30' })
    start()
    await store.append('acme', [trackOf(ANN, 1)])
    clock.advance(LINGER_MS + 1)
    await until(() => settled.length === 1, { what: 'the 503 settled' })
    const failedAt = clock.now()
    const reader = openSqlite(file, { readonly: true })
    const person = reader.prepare('SELECT next_attempt_at FROM queue_people').get() as { next_attempt_at: number }
    reader.db.close()
    expect(person.next_attempt_at).to.equal(failedAt + 30_000)
    expect(settled[0]).to.include({ action: 'retry', entries: 1 })
    expect(logs.text).to.contain('Koala unavailable; the request waits')
    koala(200)
    clock.advance(30_000)
    await until(async () => (await depth()) === 0, { what: 'the entry delivered after Retry-After' })
    expect(received.map((body) => body.events[0].event)).to.deep.equal(['e1', 'e1'])
  })

  it('writes a settle the store refused (a full disk) again every second, so the person is neither held for the lease nor sent twice', async () => {
    koala(200)
    start()
    await store.append('acme', [trackOf(ANN, 1)])
    // The disk refuses every delete, as a full one does, until the test lifts it.
    const { db: other } = openSqlite(file)
    other.exec(`CREATE TRIGGER refuse_delete BEFORE DELETE ON queue_entries BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`)
    clock.advance(LINGER_MS + 1)
    await until(() => logs.text.includes('the store refused a settle'), { what: 'the refused ack logged' })
    clock.advance(1_000)
    await until(() => clock.pendingTimers().includes(1_000), { what: 'the second try of the ack failed too, and a third waits' })
    other.exec('DROP TRIGGER refuse_delete')
    other.close()
    clock.advance(1_000)
    await until(async () => (await depth()) === 0, { what: 'the ack written once the disk takes it' })
    expect(received, 'Koala got the request once').to.have.length(1)
    expect(settled).to.have.length(1)
  })

  it('dead-letters what Koala refuses (400) with its status, code and message, emails masked', async () => {
    koala(400, { error: `bad event for ${ANN}`, code: 'invalid_event' })
    start()
    await store.append('acme', [trackOf(ANN, 1), trackOf(ANN, 2)])
    clock.advance(LINGER_MS + 1)
    await until(async () => (await store.status()).deadLetters === 2, { what: 'two dead letters' })
    const [letter] = await store.listDeadLetters({ limit: 10 })
    expect(letter.reason).to.equal('Koala 400 invalid_event: bad event for [email]')
    expect(await depth()).to.equal(0)
    expect(logs.text).to.contain('Koala refused entries for good').and.not.contain(ANN)
  })

  it('pauses a workspace whose key Koala refuses (401), dead-letters nothing, and resumes once the key works', async () => {
    koala(401, { error: 'invalid key' })
    start()
    await store.append('acme', [trackOf(ANN, 1)])
    clock.advance(LINGER_MS + 1)
    await until(() => settled.length === 1, { what: 'the 401 settled' })
    const paused = (await store.status()).workspaces[0]
    expect(paused).to.include({ workspace: 'acme', paused: true, depth: 1, deadLetters: 0 })
    expect(paused.pausedReason).to.equal('Koala 401: invalid key')
    expect(logs.text).to.contain('its delivery is paused, nothing is dropped')
    await store.append('acme', [trackOf(ANN, 2)])
    clock.advance(PROBE_MS - 1)
    expect(received, 'nothing sent while paused').to.have.length(1)
    koala(200)
    clock.advance(1)
    await until(async () => (await depth()) === 0, { what: 'the entries delivered after the probe' })
    expect((await store.status()).workspaces, 'nothing paused, nothing dead-lettered').to.deep.equal([])
    expect(received[1].events.map((event: any) => event.event)).to.deep.equal(['e1', 'e2'])
    expect(logs.text).to.contain('delivery resumed')
  })

  it('dead-letters entries older than maxAgeMs while Koala stays down', async () => {
    // Koala asks for an hour: the entry is not leased (so not in flight) when the sweep comes.
    koala(503, { error: 'down' }, { 'Retry-After': '3600' })
    start({ maxAgeMs: 10_000, sweepIntervalMs: 1_000 })
    await store.append('acme', [trackOf(ANN, 1)])
    clock.advance(LINGER_MS + 1)
    await until(() => settled.length === 1, { what: 'the first 503 settled' })
    clock.advance(11_000)
    await until(async () => (await store.status()).deadLetters === 1, { what: 'the expired entry dead-lettered' })
    const [letter] = await store.listDeadLetters({ limit: 1 })
    expect(letter.reason).to.match(/^expired/)
    expect(logs.text).to.contain('waited longer than QUEUE_MAX_AGE')
  })

  it('leases only the workspaces it serves: another replica that serves the rest sends them at once, and the lack is logged', async () => {
    koala(200, { ok: true }, {}, 2)
    // replica-1 has a mapping for acme only (a rolling change: globex's is not there yet).
    start({ servedWorkspaces: () => ['acme'], sweepIntervalMs: 1_000 })
    await store.append('acme', [trackOf(ANN, 1)])
    await store.append('globex', [trackOf('bob@example.com', 2)])
    clock.advance(LINGER_MS + 1)
    await until(() => settled.length === 1, { what: 'acme delivered' })
    clock.advance(1_000)
    await until(() => logs.text.includes('workspace globex has entries but no mapping here'), { what: 'the unserved workspace logged' })
    expect(settled.map((request) => request.workspace)).to.deep.equal(['acme'])
    const globex = (await store.status()).workspaces.find((w) => w.workspace === 'globex')
    expect(globex?.depth, 'globex waits, untouched').to.equal(1)

    // replica-2 serves globex: it is due now, not pushed back a minute by replica-1.
    const second = startDeliverer({
      store,
      client: createKoalaClient({ koalaMaxSockets: 4, koalaTimeoutMs: 2_000, koalaBackoffBaseMs: 10, koalaBackoffMaxMs: 50 }, { maxRetries: 0 }, {}, { now: clock.now, setTimer: clock.setTimer, sleep: clock.sleep }),
      targetOf: () => TARGET,
      servedWorkspaces: () => ['globex'],
      policy: { concurrency: 4, budgetMs: 10_000, maxRetries: 0 },
      lingerMs: LINGER_MS,
      maxAgeMs: 7 * 24 * 3600_000,
      leaseMs: 60_000,
      owner: 'replica-2',
      logger: pino({ level: 'info' }, new LogCapture()),
      now: clock.now,
      setTimer: clock.setTimer,
      onRequest: (info) => settled.push(info)
    })
    try {
      await until(() => settled.length === 2, { what: 'globex delivered by replica-2' })
      expect(settled[1]).to.include({ workspace: 'globex', action: 'ack' })
      expect(received[1].email).to.equal('bob@example.com')
    } finally {
      await second.stop()
    }
  })

  it('stops only once the request in flight has settled', async () => {
    const held = heldReply(200)
    nock(KOALA).post(BATCH).reply(held.reply)
    const d = start()
    await store.append('acme', [trackOf(ANN, 1)])
    clock.advance(LINGER_MS + 1)
    await until(() => held.arrived() === 1, { what: 'the request held at Koala' })
    let stopped = false
    const stopping = d.stop().then(() => (stopped = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(stopped).to.equal(false)
    held.release()
    await stopping
    expect(await depth(), 'acknowledged before stop() resolved').to.equal(0)
  })
})
