import { expect } from 'chai'
import { resolveSentAt } from '../../src/mapping/sent-at'
import { eventInRange, parseDateRange } from '../../src/replay/intake/replay-selection'
import type { SegmentEvent } from '../../src/segment/event-schema'

describe('replay: an event\'s time is read as sent_at reads it', () => {
  const day = parseDateRange('2026-11-30', '2026-11-30')

  it('skips a garbled, impossible or numeric timestamp to the next candidate, as sent_at does', () => {
    const events: Array<Record<string, unknown>> = [
      { timestamp: '2026-11-31T10:00:00Z', originalTimestamp: '2026-11-30T10:00:00Z' },
      { timestamp: 'NaN', receivedAt: '2026-11-30T23:59:59.999999Z' },
      { timestamp: '12', originalTimestamp: '1', receivedAt: '2026-12-01T00:00:00+01:00' },
      { timestamp: '2026-12-01', receivedAt: '2026-11-30T08:00:00' }
    ]
    for (const event of events) {
      expect(eventInRange(event, day), JSON.stringify(event)).to.equal(true)
      const sentAt = resolveSentAt(undefined, { type: 'track', event: 'x', ...event } as SegmentEvent)
      expect(sentAt?.startsWith('2026-11-30T'), JSON.stringify(event)).to.equal(true)
    }
    // Before, a number was read as epoch milliseconds here but not in sent_at.
    expect(eventInRange({ timestamp: Date.UTC(2026, 10, 30, 10) }, day)).to.equal(false)
    expect(eventInRange({ timestamp: '2026-11-31T01:00:00Z' }, day)).to.equal(false)
  })

  it('reads --from/--to with the same calendar: fractions of any length, no roll-over', () => {
    expect(parseDateRange('2026-11-30T10:00:00.1234567Z', undefined).fromMs).to.equal(Date.UTC(2026, 10, 30, 10, 0, 0, 123))
    expect(parseDateRange(undefined, '2024-02-29').toMs).to.equal(Date.UTC(2024, 2, 1))
    expect(() => parseDateRange('2026-02-29', undefined)).to.throw(/--from must be an ISO date/)
    expect(() => parseDateRange('2026-11-30T10:00:00', undefined)).to.throw(/--from must be an ISO date/)
  })
})
