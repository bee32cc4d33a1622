import { Analytics } from '@segment/analytics-node'
import { expect } from 'chai'
import nock from 'nock'
import path from 'node:path'
import type { QueueEntryInput } from '../../src/queue/queue-store'
import { openSqlite } from '../../src/queue/sqlite-connection'
import { startSimulator } from '../../src/simulator/start-simulator'
import { fakeClock, type FakeClock } from '../support/fake-clock'
import { tempDir } from '../support/temp-dir'
import { until } from '../support/until'
import { ADMIN, ADMIN_TOKEN, KOALA_KEY, post, startHarness, trackEvent, WRITE_KEY, type Harness } from './service-harness'

const KOALA = 'http://koala.test'
const BATCH = `/web/projects/${KOALA_KEY}/batch`
const LINGER_MS = 250

/** A track event of one person, `n` naming it (messageId msg-<n>). */
const eventOf = (email: string, n: number) => trackEvent(n, { userId: email, context: { traits: { email } } })

describe('queue mode at the doors', function () {
  this.timeout(30_000)
  let clock: FakeClock
  let service: Harness
  let file: string
  /** Koala's received bodies, in order. */
  let received: any[]

  const start = async (overrides: Record<string, unknown> = {}) => {
    file = path.join(tempDir('queue-mode-'), 'queue.db')
    service = await startHarness({
      env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: `${KOALA}/web/projects`, ADMIN_TOKEN },
      overrides: { queueUrl: `sqlite:${file}`, queueLingerMs: LINGER_MS, ...overrides },
      now: clock.now,
      setTimer: clock.setTimer,
      sleep: clock.sleep
    })
  }
  const koala = (status: number, body: unknown = { ok: true }, times = 1) =>
    nock(KOALA)
      .post(BATCH)
      .times(times)
      .reply((_uri, requestBody) => {
        received.push(typeof requestBody === 'string' ? JSON.parse(requestBody) : requestBody)
        return [status, body]
      })
  const store = () => service.queue!.store
  const webhook = (body: unknown) => post(`${service.url}/webhook/default`, body)

  beforeEach(() => {
    nock.disableNetConnect()
    nock.enableNetConnect(/127\.0\.0\.1|localhost/)
    clock = fakeClock(Date.parse('2026-11-02T10:00:00.000Z'))
    received = []
  })
  afterEach(async () => {
    await service?.stop()
    nock.cleanAll()
    nock.enableNetConnect()
  })

  it('answers each webhook once stored, and batches 50 single-event webhooks of 5 people into at most 10 Koala requests, in each person\'s order', async () => {
    await start()
    koala(200, { ok: true }, 50)
    const people = [0, 1, 2, 3, 4].map((i) => `p${i}@example.com`)
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(people.map((email, i) => webhook(eventOf(email, round * 5 + i))))
      for (const answer of answers) {
        expect(answer.status).to.equal(200)
        expect(answer.body).to.deep.equal({ received: 1, queued: 1, dropped: 0, reasons: {} })
      }
    }
    expect(received, 'nothing sent while the people linger').to.deep.equal([])
    expect((await store().status()).depth).to.equal(50)
    clock.advance(LINGER_MS + 1)
    await until(async () => (await store().status()).depth === 0, { what: 'all 50 entries delivered' })
    expect(received.length).to.be.at.most(10)
    for (const email of people) {
      const ids = received.filter((body) => body.email === email).flatMap((body) => body.events.map((event: any) => event.message_id))
      const i = people.indexOf(email)
      expect(ids).to.deep.equal(Array.from({ length: 10 }, (_, round) => `msg-${round * 5 + i}`))
    }
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
    expect(metrics).to.match(/koala_adapter_queue_entries_per_request_sum 50/)
  })

  it('answers only once the append has committed', async () => {
    await start()
    const queued = store()
    const append = queued.append.bind(queued)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let appending = 0
    queued.append = async (workspace: string, entries: readonly QueueEntryInput[]) => {
      appending++
      await held
      return append(workspace, entries)
    }
    let answered = false
    const answer = webhook(eventOf('ann@example.com', 1)).then((reply) => {
      answered = true
      return reply
    })
    await until(() => appending === 1, { what: 'the append started' })
    await new Promise((resolve) => setImmediate(resolve))
    expect(answered, 'no answer while the commit is held').to.equal(false)
    release()
    expect((await answer).status).to.equal(200)
    expect((await queued.status()).depth).to.equal(1)
  })

  it('stores the valid events of a batch and answers 400 for the invalid ones', async () => {
    await start()
    const answer = await webhook([eventOf('ann@example.com', 1), 'not an event', eventOf('ann@example.com', 2)])
    expect(answer.status).to.equal(400)
    expect(answer.body).to.deep.include({ received: 3, queued: 2, code: 'INPUT_INVALID' })
    expect(answer.body.invalid[0]).to.include({ index: 1 })
    expect((await store().status()).depth).to.equal(2)
  })

  it('answers 503 with Retry-After when the queue is full, storing nothing of the request', async () => {
    await start({ queueMaxEntries: 3 })
    const answer = await webhook([1, 2, 3, 4].map((n) => eventOf('ann@example.com', n)))
    expect(answer.status).to.equal(503)
    expect(answer.headers.get('retry-after')).to.equal('30')
    expect(answer.body.code).to.equal('QUEUE_FULL')
    expect((await store().status()).depth).to.equal(0)
    expect((await webhook(eventOf('ann@example.com', 5))).status).to.equal(200)
  })

  it('answers 503 with Retry-After when the disk refuses the write', async () => {
    await start()
    const { db: other } = openSqlite(file)
    other.exec("CREATE TRIGGER refuse BEFORE INSERT ON queue_entries BEGIN SELECT RAISE(ABORT, 'disk refused by the test'); END")
    try {
      const answer = await webhook(eventOf('ann@example.com', 1))
      expect(answer.status).to.equal(503)
      expect(answer.headers.get('retry-after')).to.equal('30')
      expect(answer.body.code).to.equal('QUEUE_WRITE_FAILED')
      // The driver's message (paths, hosts, users) goes to the log only.
      expect(answer.body.error).to.equal('the queue store could not store the request; send it again later')
      expect(JSON.stringify(answer.body)).to.not.contain('ann@').and.not.contain('disk refused by the test').and.not.contain(file)
    } finally {
      other.exec('DROP TRIGGER refuse')
      other.close()
    }
    expect((await store().status()).depth).to.equal(0)
  })

  it('answers 503 once the request budget is spent while the store waits on a lock, instead of holding the sender', async () => {
    await start()
    // Another writer holds the file's write lock: the store's commit waits for it (busy_timeout).
    const { db: other } = openSqlite(file)
    other.exec('BEGIN IMMEDIATE')
    let released = false
    try {
      const answering = webhook(eventOf('ann@example.com', 1))
      await until(() => clock.pendingTimers().includes(3_500), { what: 'the door waiting on the append, its REQUEST_BUDGET_MS (3.5 s) armed' })
      clock.advance(3_500)
      const answer = await answering
      expect(answer.status).to.equal(503)
      expect(answer.headers.get('retry-after')).to.equal('30')
      expect(answer.body).to.deep.equal({ error: 'the queue store could not store the request; send it again later', code: 'QUEUE_WRITE_FAILED' })
      expect(service.logs.text).to.contain('did not commit within the request budget')
      other.exec('COMMIT')
      released = true
    } finally {
      if (!released) other.exec('ROLLBACK')
      other.close()
    }
    // The append went on once the lock was free: Segment's resend of it will carry the same messageId.
    await until(async () => (await store().status()).depth === 1, { what: 'the late append committed' })
  })

  it('stores a messageId\'s NUL as the text \\u0000, which PostgreSQL also takes', async () => {
    await start()
    expect((await webhook(eventOf('ann@example.com', 1))).status).to.equal(200)
    expect((await webhook({ ...eventOf('ann@example.com', 2), messageId: 'msg\u0000two' })).status).to.equal(200)
    const { db, prepare } = openSqlite(file, { readonly: true })
    try {
      const rows = prepare('SELECT message_id FROM queue_entries ORDER BY id').all() as Array<{ message_id: string }>
      expect(rows.map((row) => row.message_id)).to.deep.equal(['msg-1', 'msg\\u0000two'])
    } finally {
      db.close()
    }
  })

  it('pauses a workspace Koala refuses (401), shows it in /readyz and the metrics, and dead-letters nothing', async () => {
    await start()
    koala(401, { error: 'invalid key' })
    expect((await webhook(eventOf('ann@example.com', 1))).status).to.equal(200)
    clock.advance(LINGER_MS + 1)
    await until(async () => (await store().status()).workspaces[0]?.paused === true, { what: 'the workspace paused' })
    // The status behind /readyz and the metrics is read every 5 s.
    clock.advance(5_000)
    await until(async () => ((await (await fetch(`${service.url}/readyz`, { headers: ADMIN })).json()) as any).queue?.paused?.length === 1, { what: '/readyz shows the pause' })
    const ready = (await (await fetch(`${service.url}/readyz`, { headers: ADMIN })).json()) as any
    expect(ready.queue).to.deep.include({ depth: 1, deadLetters: 0, paused: [{ workspace: 'default', reason: 'Koala 401: invalid key' }] })
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
    expect(metrics).to.contain('koala_adapter_queue_paused{workspace="default"} 1')
    expect(metrics).to.contain('koala_adapter_queue_depth{workspace="default"} 1')
    expect(service.logs.text).to.contain('its delivery is paused, nothing is dropped')
  })
})

describe('queue mode with @segment/analytics-node and the simulator', function () {
  this.timeout(30_000)

  it('takes events from an unmodified analytics-node client, answers success, and delivers them through the real app', async () => {
    const sim = await startSimulator({ port: 0 })
    const file = path.join(tempDir('queue-mode-'), 'queue.db')
    const service = await startHarness({
      env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, SEGMENT_WRITE_KEY: WRITE_KEY },
      overrides: { queueUrl: `sqlite:${file}`, queueLingerMs: 20 }
    })
    try {
      const direct = await post(`${service.url}/v1/batch`, { batch: [eventOf('bob@example.com', 100)], writeKey: WRITE_KEY })
      expect(direct.body).to.deep.equal({ success: true, received: 1, queued: 1, dropped: 0, reasons: {} })
      const analytics = new Analytics({ writeKey: WRITE_KEY, host: service.url, flushAt: 5, flushInterval: 50, maxRetries: 0 })
      const errors: unknown[] = []
      analytics.on('error', (error) => errors.push(error))
      for (let n = 0; n < 12; n++) analytics.track({ userId: 'u1', event: `Step ${n}`, context: { traits: { email: 'ada@example.com' } } })
      await analytics.closeAndFlush({ timeout: 10_000 })
      expect(errors).to.deep.equal([])
      const events = () => sim.requests().flatMap((request) => ((request.body as any).events ?? []) as any[])
      await until(() => events().length === 13, { what: 'the 13 events at the simulator' })
      const ada = events().filter((event) => event.event?.startsWith('Step'))
      expect(ada.map((event) => event.event)).to.deep.equal(Array.from({ length: 12 }, (_, n) => `Step ${n}`))
      await until(async () => (await service.queue!.store.status()).depth === 0, { what: 'the queue empty' })
    } finally {
      await service.stop()
      await sim.close()
    }
  })
})
