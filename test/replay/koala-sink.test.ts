import { expect } from 'chai'
import type { DeliveryResult, KoalaClient } from '../../src/koala/koala-client'
import type { KoalaRequest, OutboundRequest } from '../../src/koala/request-schema'
import { createKoalaSink } from '../../src/replay/settling/koala-sink'
import { RateLimit } from '../../src/replay/settling/rate-limit'
import type { SinkOutcome } from '../../src/replay/settling/replay-sink'
import { until } from '../support/until'

const request = (email: string, id: string): KoalaRequest => ({ endpoint: 'batch', body: { email, events: [{ type: 'track', event: 'E', message_id: id }] } })
const idOf = (r: OutboundRequest) => (r.body as { events: Array<{ message_id: string }> }).events[0].message_id

/**
 * A KoalaClient that answers each request on the next turn of the event loop, except those whose id
 * ends in `slow`, held until releaseSlow(): slow by the test's say, not by a timer racing the others.
 */
function fakeClient(answer: (r: OutboundRequest) => DeliveryResult = () => ({ ok: true, status: 200, attempts: 1 })) {
  const log: string[] = []
  const deadlines: number[] = []
  let inFlight = 0
  let maxInFlight = 0
  const held: Array<() => void> = []
  const client: KoalaClient = {
    async send(r, _target, options) {
      deadlines.push(options?.deadline ?? Infinity)
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      log.push(`start ${idOf(r)}`)
      await new Promise<void>((resolve) => (idOf(r).endsWith('slow') ? held.push(resolve) : setImmediate(resolve)))
      log.push(`end ${idOf(r)}`)
      inFlight--
      return answer(r)
    },
    close() {}
  }
  return { client, log, deadlines, maxInFlight: () => maxInFlight, releaseSlow: () => held.splice(0).forEach((resolve) => resolve()) }
}

const target = { baseUrl: 'http://koala.invalid', publicApiKey: 'k' }

describe('replay: the Koala sink', () => {
  it('keeps one person\'s requests in order (a slow one is never overtaken) while others go in parallel, within the concurrency', async () => {
    const fake = fakeClient()
    const sink = createKoalaSink(fake.client, target, { concurrency: 3, budgetMs: 30_000, now: () => 1_000 })
    const outcomes: string[] = []
    for (const [email, id] of [['ada', 'a1-slow'], ['ada', 'a2'], ['bob', 'b1'], ['cyd', 'c1'], ['bob', 'b2'], ['dan', 'd1']]) {
      sink.submit(request(`${email}@example.com`, id), (outcome) => outcomes.push(`${id}:${outcome.status}`))
    }
    await until(() => fake.log.includes('end d1') && fake.log.includes('end b2'), { what: 'the other people\'s requests answered' })
    fake.releaseSlow()
    await sink.close()
    expect(outcomes).to.have.length(6)
    expect(fake.log.indexOf('start a2')).to.be.greaterThan(fake.log.indexOf('end a1-slow'))
    expect(fake.log.indexOf('start b2')).to.be.greaterThan(fake.log.indexOf('end b1'))
    expect(fake.log.indexOf('end d1')).to.be.lessThan(fake.log.indexOf('end a1-slow'))
    expect(fake.maxInFlight()).to.equal(3)
    expect(fake.deadlines.every((deadline) => deadline === 31_000)).to.equal(true)
  })

  it('turns Koala\'s answers into outcomes: a 400 with its error, an unavailable one with its code, a 401 that stops the replay', async () => {
    const answers: Record<string, DeliveryResult> = {
      r400: { ok: false, kind: 'rejected', status: 400, error: { error: 'bad payload', code: 'invalid_payload' }, attempts: 1 },
      r401: { ok: false, kind: 'rejected', status: 401, error: { error: 'invalid public api key' }, attempts: 1 },
      down: { ok: false, kind: 'unavailable', code: 'ECONNREFUSED', attempts: 6, message: 'Koala batch: ECONNREFUSED after 6 attempts (retry limit)' }
    }
    const sink = createKoalaSink(fakeClient((r) => answers[idOf(r)]).client, target, { concurrency: 4, budgetMs: 1_000 })
    const outcomes: Record<string, SinkOutcome> = {}
    for (const id of Object.keys(answers)) sink.submit(request(`${id}@example.com`, id), (outcome) => (outcomes[id] = outcome))
    await sink.close()
    expect(outcomes.r400).to.deep.equal({ ok: false, status: '400', stop: false, reason: { endpoint: 'batch', status: 400, code: 'invalid_payload', error: 'bad payload' } })
    expect(outcomes.r401).to.include({ status: '401', stop: true })
    expect(outcomes.down).to.deep.equal({ ok: false, status: 'ECONNREFUSED', reason: { endpoint: 'batch', code: 'ECONNREFUSED', error: 'Koala batch: ECONNREFUSED after 6 attempts (retry limit)' } })
  })

  it('spaces requests evenly at the rate asked for', async () => {
    let now = 0
    const waits: number[] = []
    const rate = new RateLimit(4, { now: () => now, sleep: async (ms) => void waits.push(ms) })
    await Promise.all([rate.take(), rate.take(), rate.take()])
    expect(waits).to.deep.equal([250, 500])
    now = 2_000
    await rate.take()
    expect(waits).to.have.length(2)
  })
})
