import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { compileMapping } from '../../src/mapping/compile-mapping'
import { parseMappingText } from '../../src/mapping/load-mapping'
import { resolveSentAt } from '../../src/mapping/sent-at'
import type { SegmentEvent } from '../../src/segment/event-schema'

const event = (times: Partial<Record<'timestamp' | 'originalTimestamp' | 'receivedAt', string>>): SegmentEvent =>
  ({ type: 'track', event: 'Signed Up', ...times }) as SegmentEvent

/** Runs `check` with the process in each zone (Node re-reads TZ when it is assigned). */
function inZones(zones: string[], check: () => void): void {
  const saved = process.env.TZ
  try {
    for (const zone of zones) {
      process.env.TZ = zone
      check()
    }
  } finally {
    if (saved === undefined) delete process.env.TZ
    else process.env.TZ = saved
  }
}

describe('mapping/sent-at: the entry\'s sent_at', () => {
  it('is the same whatever zone the process runs in; a zone-less time is UTC', () => {
    const seen = new Map<string, unknown[]>()
    inZones(['America/Los_Angeles', 'Asia/Kolkata'], () => {
      const zone = process.env.TZ as string
      seen.set(zone, [
        // The guard: Date itself reads this zone-less string in the process's zone, so the zones really differ.
        new Date('2026-11-30T10:00:00').getTime(),
        resolveSentAt('2026-11-30T10:00:00', event({})),
        resolveSentAt('2026-11-30 23:30:00.5', event({})),
        resolveSentAt(undefined, event({ timestamp: '2026-11-30' })),
        resolveSentAt(undefined, event({ timestamp: '2026-11-30T10:00:00+05:30' }))
      ])
    })
    const [losAngeles, kolkata] = [seen.get('America/Los_Angeles')!, seen.get('Asia/Kolkata')!]
    expect(losAngeles[0]).to.not.equal(kolkata[0])
    expect(losAngeles.slice(1)).to.deep.equal(kolkata.slice(1))
    expect(kolkata.slice(1)).to.deep.equal([
      '2026-11-30T10:00:00.000Z',
      '2026-11-30T23:30:00.500Z',
      '2026-11-30T00:00:00.000Z',
      '2026-11-30T04:30:00.000Z'
    ])
  })

  it('returns a canonical value as it is, and writes any other accepted form as ISO 8601 UTC', () => {
    expect(resolveSentAt('2026-11-30T10:00:00.000Z', event({ timestamp: '2020-01-01T00:00:00.000Z' }))).to.equal('2026-11-30T10:00:00.000Z')
    expect(resolveSentAt('2026-11-30T10:00:00.123456+01:00', event({}))).to.equal('2026-11-30T09:00:00.123Z')
    expect(resolveSentAt(undefined, event({ timestamp: '2026-11-30T10:00:00.000Z' }))).to.equal('2026-11-30T10:00:00.000Z')
  })

  it('treats an impossible or malformed value as missing and tries the next candidate, never rolling over', () => {
    const times = { timestamp: '2026-11-31T10:00:00Z', originalTimestamp: 'NaN', receivedAt: '2026-12-01T08:00:00.000Z' }
    for (const mapped of ['2026-11-31T10:00:00Z', '2026-11-31T10:00:00.000Z', '1', '12', 'NaN', '', undefined, null]) {
      expect(resolveSentAt(mapped, event(times)), String(mapped)).to.equal('2026-12-01T08:00:00.000Z')
    }
    expect(resolveSentAt('12', event({ timestamp: '1', originalTimestamp: '2026-02-29T00:00:00Z' }))).to.equal(undefined)
  })

  it('refuses numbers: an epoch could be seconds or milliseconds, and guessing is not reading', () => {
    expect(resolveSentAt(1764496800000, event({ timestamp: '2026-11-30T10:00:00Z' }))).to.equal('2026-11-30T10:00:00.000Z')
    expect(resolveSentAt(1764496800, event({}))).to.equal(undefined)
  })

  it('lets a date without a time lose to a later candidate with one, and uses it when none has', () => {
    expect(resolveSentAt('2026-11-30', event({ timestamp: '2026-11-29T22:15:00Z' }))).to.equal('2026-11-29T22:15:00.000Z')
    expect(resolveSentAt(undefined, event({ timestamp: '2026-11-30', receivedAt: '2026-11-30T01:02:03Z' }))).to.equal('2026-11-30T01:02:03.000Z')
    expect(resolveSentAt('2026-11-30', event({ timestamp: '2026-11-29', receivedAt: 'garbled' }))).to.equal('2026-11-30T00:00:00.000Z')
  })
})

describe('sent_at through compileMapping/map with the default mapping', () => {
  const defaultMapper = compileMapping(parseMappingText(readFileSync(path.join(__dirname, '..', '..', 'mappings', 'default.json'), 'utf8')))
  const sentAt = (times: Record<string, unknown>): unknown => {
    const result = defaultMapper.map({ type: 'track', event: 'Signed Up', messageId: 'm-1', properties: { email: 'a@b.co' }, ...times })
    if (result.outcome !== 'send') throw new Error(`expected send, got ${JSON.stringify(result)}`)
    return (result.entries[0].entry as { sent_at?: unknown }).sent_at
  }

  it('skips an impossible timestamp to originalTimestamp, and a date-only one to a later time', () => {
    expect(sentAt({ timestamp: '2026-11-31T10:00:00Z', originalTimestamp: '2026-11-30T09:59:58.5+01:00' })).to.equal('2026-11-30T08:59:58.500Z')
    expect(sentAt({ timestamp: '2026-11-30', receivedAt: '2026-11-30T10:00:01.000Z' })).to.equal('2026-11-30T10:00:01.000Z')
    expect(sentAt({ timestamp: '12', originalTimestamp: 'NaN' })).to.equal(undefined)
  })

  it('sends the same sent_at whatever zone the process runs in', () => {
    const seen: unknown[] = []
    inZones(['America/Los_Angeles', 'Asia/Kolkata'], () => seen.push(sentAt({ timestamp: '2026-11-30 10:00:00.123456' })))
    expect(seen).to.deep.equal(['2026-11-30T10:00:00.123Z', '2026-11-30T10:00:00.123Z'])
  })

  it('reads a subscription\'s own sent_at strictly, falling back to the Spec\'s timestamps', () => {
    const raw = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'mappings', 'default.json'), 'utf8'))
    raw.subscriptions[0].mapping.sent_at = { '@path': '$.properties.at' }
    const mapper = compileMapping(parseMappingText(JSON.stringify(raw)))
    const at = (value: unknown): unknown => {
      const result = mapper.map({ type: 'track', event: 'x', timestamp: '2026-11-30T10:00:00.000Z', properties: { email: 'a@b.co', at: value } })
      return result.outcome === 'send' ? (result.entries[0].entry as { sent_at?: unknown }).sent_at : result
    }
    expect(at('2026-11-29T08:00:00-05:00')).to.equal('2026-11-29T13:00:00.000Z')
    expect(at('2026-02-30T08:00:00Z')).to.equal('2026-11-30T10:00:00.000Z')
    expect(at(1764496800000)).to.equal('2026-11-30T10:00:00.000Z')
  })
})
