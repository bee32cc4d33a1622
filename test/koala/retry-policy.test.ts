import { expect } from 'chai'
import { isRetryable, parseRetryAfter, retryDelay, retryPolicyFrom, type RetryPolicy } from '../../src/koala/retry-policy'

const policy: RetryPolicy = retryPolicyFrom({ koalaBackoffBaseMs: 100, koalaBackoffMaxMs: 2_000 }, 5)
const middle = () => 0.5

describe('retry policy', () => {
  describe('which failures are retried', () => {
    const notRetried = [200, 201, 204, 301, 304, 400, 401, 403, 404, 405, 409, 413, 422, 423, 501, 505]
    for (const status of notRetried) {
      it(`never retries HTTP ${status}`, () => {
        expect(retryDelay(policy, 1, { status }, middle)).to.equal(-1)
        expect(isRetryable(policy, { status })).to.equal(false)
      })
    }

    const retried = [408, 429, 500, 502, 503, 504, 507, 520, 599]
    for (const status of retried) {
      it(`retries HTTP ${status}`, () => {
        expect(retryDelay(policy, 1, { status }, middle)).to.be.greaterThan(0)
      })
    }

    const retriedCodes = ['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']
    for (const code of retriedCodes) {
      it(`retries network error ${code}`, () => {
        expect(retryDelay(policy, 1, { code }, middle)).to.be.greaterThan(0)
      })
    }

    for (const code of ['ENOTFOUND', 'ERR_UNKNOWN', 'ERR_CANCELED', 'ERR_BAD_REQUEST']) {
      it(`does not retry ${code}`, () => {
        expect(retryDelay(policy, 1, { code }, middle)).to.equal(-1)
      })
    }

    it('does not retry a failure with neither status nor code', () => {
      expect(retryDelay(policy, 1, {}, middle)).to.equal(-1)
    })

    it('stops after maxRetries, and never answers retry 0', () => {
      expect(retryDelay(policy, 5, { status: 503 }, middle)).to.be.greaterThan(0)
      expect(retryDelay(policy, 6, { status: 503 }, middle)).to.equal(-1)
      expect(retryDelay(policy, 0, { status: 503 }, middle)).to.equal(-1)
      const never = retryPolicyFrom({ koalaBackoffBaseMs: 100, koalaBackoffMaxMs: 2_000 }, 0)
      expect(retryDelay(never, 1, { status: 503 }, middle)).to.equal(-1)
    })
  })

  describe('backoff', () => {
    it('doubles per retry and stops growing at maxMs (equal jitter, random fixed)', () => {
      const delays = [1, 2, 3, 4, 5].map((retry) => retryDelay(policy, retry, { status: 503 }, () => 0.999999))
      expect(delays).to.deep.equal([99, 199, 399, 799, 1_599])
      const capped = retryPolicyFrom({ koalaBackoffBaseMs: 100, koalaBackoffMaxMs: 2_000 }, 10)
      const late = [5, 6, 7, 10].map((retry) => retryDelay(capped, retry, { status: 503 }, () => 0.999999))
      expect(late).to.deep.equal([1_599, 1_999, 1_999, 1_999])
    })

    it('keeps each wait between half the step and the step', () => {
      for (const retry of [1, 2, 3, 4, 5]) {
        const step = Math.min(2_000, 100 * 2 ** (retry - 1))
        expect(retryDelay(policy, retry, { code: 'ECONNRESET' }, () => 0)).to.equal(step / 2)
        expect(retryDelay(policy, retry, { code: 'ECONNRESET' }, () => 0.999999)).to.be.within(step / 2, step)
        for (let i = 0; i < 50; i++) expect(retryDelay(policy, retry, { status: 500 }, Math.random)).to.be.within(step / 2, step)
      }
    })

    it('takes Retry-After as the wait, even beyond maxMs', () => {
      expect(retryDelay(policy, 1, { status: 429, retryAfterMs: 1_000 }, middle)).to.equal(1_000)
      expect(retryDelay(policy, 3, { status: 503, retryAfterMs: 60_000 }, middle)).to.equal(60_000)
      expect(retryDelay(policy, 1, { status: 429, retryAfterMs: 0 }, middle)).to.equal(0)
    })

    it('ignores Retry-After on a failure that is not retried, or past the limit', () => {
      expect(retryDelay(policy, 1, { status: 400, retryAfterMs: 1_000 }, middle)).to.equal(-1)
      expect(retryDelay(policy, 6, { status: 429, retryAfterMs: 1_000 }, middle)).to.equal(-1)
    })
  })

  describe('parseRetryAfter', () => {
    const now = Date.parse('2026-03-01T12:00:00Z')

    it('reads delay-seconds', () => {
      expect(parseRetryAfter('1', now)).to.equal(1_000)
      expect(parseRetryAfter(' 120 ', now)).to.equal(120_000)
      expect(parseRetryAfter('0', now)).to.equal(0)
    })

    it('reads an HTTP-date, relative to now, never negative', () => {
      expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).to.equal(30_000)
      expect(parseRetryAfter('Sunday, 01-Mar-26 12:01:00 GMT', now)).to.equal(60_000)
      expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).to.equal(0)
    })

    it('ignores absent and malformed values', () => {
      for (const value of [undefined, '', '  ', '-1', '1.5', 'soon', 'Sun, 99 Foo 2026']) {
        expect(parseRetryAfter(value, now), String(value)).to.equal(undefined)
      }
    })
  })
})
