import { expect } from 'chai'
import nock from 'nock'
import { ADMIN, ADMIN_TOKEN, KOALA_KEY, post, startHarness, trackEvent, type Harness } from './service-harness'

const KOALA = 'http://koala.test'
const BATCH = `/web/projects/${KOALA_KEY}/batch`

describe('Koala faults at the doors', function () {
  this.timeout(20_000)
  let service: Harness

  before(async () => {
    nock.disableNetConnect()
    nock.enableNetConnect(/127\.0\.0\.1|localhost/)
    service = await startHarness({
      env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: `${KOALA}/web/projects`, ADMIN_TOKEN },
      overrides: { koalaBackoffBaseMs: 10, koalaBackoffMaxMs: 50, koalaTimeoutMs: 300, requestBudgetMs: 1_500 }
    })
  })
  after(async () => {
    await service.stop()
    nock.cleanAll()
    nock.enableNetConnect()
  })
  afterEach(() => nock.cleanAll())

  const send = () => post(`${service.url}/webhook/default`, trackEvent(1))

  it('retries a 500 and answers 200 once Koala takes it', async () => {
    const koala = nock(KOALA).post(BATCH).reply(500).post(BATCH).reply(200, { ok: true })
    const answer = await send()
    expect(answer.status).to.equal(200)
    expect(answer.body.delivered).to.equal(1)
    expect(koala.isDone()).to.equal(true)
  })

  it('answers 429 with Retry-After when Koala keeps rate-limiting', async () => {
    nock(KOALA).post(BATCH).times(20).reply(429, { error: 'slow down' }, { 'Retry-After': '7' })
    const started = Date.now()
    const answer = await send()
    expect(answer.status).to.equal(429)
    expect(answer.headers.get('retry-after')).to.equal('7')
    expect(answer.body.delivered).to.equal(0)
    expect(Date.now() - started).to.be.below(5_000)
  })

  it('honours a short Retry-After and delivers', async () => {
    const koala = nock(KOALA).post(BATCH).reply(429, {}, { 'Retry-After': '0' }).post(BATCH).reply(200, { ok: true })
    expect((await send()).status).to.equal(200)
    expect(koala.isDone()).to.equal(true)
  })

  it('answers 503 with Retry-After, inside Segment\'s 5 s, while Koala stays down', async () => {
    nock(KOALA).post(BATCH).times(50).reply(503)
    const started = Date.now()
    const answer = await send()
    expect(answer.status).to.equal(503)
    expect(Number(answer.headers.get('retry-after'))).to.be.at.least(1)
    expect(answer.body).to.deep.include({ delivered: 0, code: 'KOALA_UNAVAILABLE' })
    expect(Date.now() - started).to.be.below(5_000)
  })

  it('retries a timeout and a connection reset', async () => {
    const koala = nock(KOALA)
      .post(BATCH).delay(1_000).reply(200, { ok: true })
      .post(BATCH).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' })
      .post(BATCH).reply(200, { ok: true })
    const answer = await send()
    expect(answer.status).to.equal(200)
    expect(koala.isDone()).to.equal(true)
  })

  it('answers 400 carrying Koala\'s error on a permanent rejection, without retrying', async () => {
    const koala = nock(KOALA).post(BATCH).once().reply(400, { error: 'Koala ingest suspended', code: 'suspended' })
    const answer = await send()
    expect(answer.status).to.equal(400)
    expect(answer.body).to.deep.include({ code: 'KOALA_REJECTED', delivered: 0, koala: { error: 'Koala ingest suspended', code: 'suspended' } })
    expect(koala.isDone()).to.equal(true)
  })

  it('answers 400 when Koala refuses the key (401), without retrying', async () => {
    nock(KOALA).post(BATCH).once().reply(401, { error: 'invalid public api key' })
    const answer = await send()
    expect(answer.status).to.equal(400)
    expect(answer.body.error).to.contain('401')
  })

  it('never acknowledges a batch that was only partly delivered', async () => {
    const events = [trackEvent(1), trackEvent(2, { context: { traits: { email: 'bob@example.com' } } })]
    nock(KOALA)
      .post(BATCH, (body) => body.email === 'ada@example.com').reply(200, { ok: true })
      .post(BATCH, (body) => body.email === 'bob@example.com').times(50).reply(502)
    const answer = await post(`${service.url}/webhook/default`, events)
    expect(answer.status).to.equal(503)
    expect(answer.body.delivered).to.equal(0)
  })

  it('counts Koala requests by status and retries in /metrics', async () => {
    // The service is shared with the tests above: what counts is that this send moved each counter by its own share.
    const read = async () => {
      const text = await (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
      const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
      return {
        text,
        failed: value('koala_adapter_koala_requests_total{endpoint="batch",status="500"}'),
        accepted: value('koala_adapter_koala_requests_total{endpoint="batch",status="200"}'),
        retries: value('koala_adapter_koala_retries_total{endpoint="batch"}'),
        received: value('koala_adapter_events_received_total{door="webhook",workspace="default"}')
      }
    }
    const before = await read()
    nock(KOALA).post(BATCH).reply(500).post(BATCH).reply(200, { ok: true })
    expect((await send()).status).to.equal(200)
    const after = await read()
    expect({ failed: after.failed - before.failed, accepted: after.accepted - before.accepted, retries: after.retries - before.retries, received: after.received - before.received })
      .to.deep.equal({ failed: 1, accepted: 1, retries: 1, received: 1 })
    const metrics = after.text
    expect(metrics).to.contain('koala_adapter_koala_request_duration_seconds_bucket')
  })
})

describe('a large Actions batch while Koala is slow', function () {
  this.timeout(30_000)

  it('delivers 1000 events of 200 people within Segment\'s 5 s when Koala answers in 100 ms', async () => {
    const { startSimulator } = await import('../../src/simulator/start-simulator')
    const sim = await startSimulator({ port: 0 })
    sim.addFaults({ latencyMs: 100, times: 1_000 })
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl } })
    try {
      const events = Array.from({ length: 1000 }, (_, i) => trackEvent(i, { context: { traits: { email: `person${i % 200}@example.com` } } }))
      const started = Date.now()
      const answer = await post(`${service.url}/webhook/default`, events)
      expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).to.equal(200)
      expect(answer.body).to.deep.include({ delivered: 1000, requests: 200 })
      expect(Date.now() - started).to.be.below(5_000)
      expect(sim.requests()).to.have.length(200)
    } finally {
      await service.stop()
      await sim.close()
    }
  })
})
