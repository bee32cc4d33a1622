import { expect } from 'chai'
import { deliveryPolicies, loadConfig } from '../../src/config'

describe('queue mode settings', () => {
  it('reads QUEUE_MAX_AGE as whole ms or a number with a unit, 7 days by default', () => {
    expect(loadConfig({}).queueMaxAgeMs).to.equal(7 * 86_400_000)
    expect(loadConfig({ QUEUE_MAX_AGE: '12h' }).queueMaxAgeMs).to.equal(12 * 3_600_000)
    expect(loadConfig({ QUEUE_MAX_AGE: '30m' }).queueMaxAgeMs).to.equal(30 * 60_000)
    expect(loadConfig({ QUEUE_MAX_AGE: '90000' }).queueMaxAgeMs).to.equal(90_000)
    for (const bad of ['soon', '1.5d', '0', '-3h', '7 days']) {
      expect(() => loadConfig({ QUEUE_MAX_AGE: bad }), bad).to.throw(/setting QUEUE_MAX_AGE=.* is not valid; allowed: a duration/)
    }
  })

  it('refuses a lease shorter than twice the queue\'s request budget', () => {
    expect(() => loadConfig({ QUEUE_LEASE_MS: '15000', QUEUE_REQUEST_BUDGET_MS: '10000' })).to.throw(/QUEUE_LEASE_MS=.*under twice QUEUE_REQUEST_BUDGET_MS/)
  })

  it('never prints QUEUE_URL, which may hold a password', () => {
    expect(() => loadConfig({}, { queueUrl: '' })).to.throw(/QUEUE_URL=\(0 characters, not shown\)/)
  })

  it('gives the queue a policy of its own: its concurrency and a longer budget than the door\'s', () => {
    const config = loadConfig({ QUEUE_CONCURRENCY: '7' })
    const { door, queue } = deliveryPolicies(config)
    expect(queue).to.include({ concurrency: 7, budgetMs: config.queueRequestBudgetMs })
    expect(queue.budgetMs).to.be.above(door.budgetMs)
  })
})
