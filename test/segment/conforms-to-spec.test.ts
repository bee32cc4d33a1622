import { expect } from 'chai'
import { conformsToSpec } from '../../src/segment/conforms-to-spec'
import { SegmentEvent, SEGMENT_EVENT_TYPES } from '../../src/segment/event-schema'

const BASES: Record<string, Record<string, unknown>> = {
  track: { type: 'track', event: 'Signed Up', properties: { plan: 'pro' } },
  identify: { type: 'identify', traits: { email: 'ada@example.com' } },
  page: { type: 'page', name: 'Home', category: 'Docs', properties: {} },
  screen: { type: 'screen', name: 'Home', properties: {} },
  group: { type: 'group', groupId: 'acme', traits: { name: 'Acme' } },
  alias: { type: 'alias', previousId: 'anon-1' }
}

const FIELDS = [
  'messageId', 'userId', 'anonymousId', 'timestamp', 'originalTimestamp', 'sentAt', 'receivedAt', 'context', 'integrations',
  'channel', 'version', 'event', 'properties', 'traits', 'name', 'category', 'groupId', 'previousId', 'type', 'extra'
]

const VALUES: unknown[] = [undefined, null, '', 'x', 0, 7, -1.5, Number.NaN, Number.POSITIVE_INFINITY, true, false, {}, { a: 1 }, [], ['x'], 'track', 'group']

describe('conformsToSpec', () => {
  it('accepts exactly what SegmentEvent (zod) accepts, field by field, for every call type', () => {
    let accepted = 0
    let refused = 0
    for (const type of SEGMENT_EVENT_TYPES) {
      for (const field of FIELDS) {
        for (const value of VALUES) {
          const event: Record<string, unknown> = { ...BASES[type], [field]: value }
          const zod = SegmentEvent.safeParse(event).success
          expect(conformsToSpec(event), `${type} with ${field} = ${String(value)}`).to.equal(zod)
          if (zod) accepted++
          else refused++
          // Absent and present-but-undefined must agree too.
          const without = { ...BASES[type] }
          delete without[field]
          expect(conformsToSpec(without), `${type} without ${field}`).to.equal(SegmentEvent.safeParse(without).success)
        }
      }
    }
    // Both answers were exercised, many times each.
    expect(accepted).to.be.above(500)
    expect(refused).to.be.above(500)
  })

  it('agrees on generated events that mix several fields at once', () => {
    let seed = 42
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (let i = 0; i < 3000; i++) {
      const type = SEGMENT_EVENT_TYPES[Math.floor(random() * SEGMENT_EVENT_TYPES.length)]
      const event: Record<string, unknown> = { ...BASES[type] }
      for (let k = 0; k < 3; k++) event[FIELDS[Math.floor(random() * FIELDS.length)]] = VALUES[Math.floor(random() * VALUES.length)]
      expect(conformsToSpec(event), JSON.stringify(event)).to.equal(SegmentEvent.safeParse(event).success)
    }
  })
})
