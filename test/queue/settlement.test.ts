import { expect } from 'chai'
import { QUEUE_RETRY, queueRetryDelay } from '../../src/queue/queue-retry'
import { settlementOf } from '../../src/queue/settlement'

describe('settling a Koala answer in queue mode', () => {
  it('acknowledges a success, retries what is unavailable, pauses on 401/403/404, dead-letters other 4xx', () => {
    expect(settlementOf({ ok: true, status: 200, attempts: 1 })).to.deep.equal({ action: 'ack' })
    expect(settlementOf({ ok: false, kind: 'unavailable', status: 429, retryAfterMs: 7_000, attempts: 2, message: 'Koala batch: HTTP 429' })).to.deep.equal({
      action: 'retry',
      reason: 'Koala batch: HTTP 429',
      retryAfterMs: 7_000
    })
    for (const status of [401, 403, 404]) expect(settlementOf({ ok: false, kind: 'rejected', status, error: { error: 'no' }, attempts: 1 })).to.include({ action: 'pause', status })
    expect(settlementOf({ ok: false, kind: 'rejected', status: 422, error: { error: 'bad a@b.co', code: 'bad_event' }, attempts: 1 })).to.deep.equal({ action: 'dead', reason: 'Koala 422 bad_event: bad [email]' })
    expect(settlementOf({ ok: false, kind: 'rejected', status: 410, error: 'gone', attempts: 1 })).to.deep.equal({ action: 'dead', reason: 'Koala 410: gone (refused for good)' })
  })

  it('backs off exponentially with equal jitter, capped, and never sooner than Retry-After (itself capped)', () => {
    expect(queueRetryDelay(1, undefined, () => 0)).to.equal(QUEUE_RETRY.baseMs / 2)
    expect(queueRetryDelay(1, undefined, () => 1)).to.equal(QUEUE_RETRY.baseMs)
    expect(queueRetryDelay(3, undefined, () => 0)).to.equal(2 * QUEUE_RETRY.baseMs)
    expect(queueRetryDelay(40, undefined, () => 1)).to.equal(QUEUE_RETRY.maxMs)
    expect(queueRetryDelay(1, 30_000, () => 1)).to.equal(30_000)
    expect(queueRetryDelay(1, 10 * QUEUE_RETRY.maxRetryAfterMs, () => 0)).to.equal(QUEUE_RETRY.maxRetryAfterMs)
  })
})
