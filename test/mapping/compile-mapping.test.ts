import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { compileMapping, type MapResult } from '../../src/mapping/compile-mapping'
import { parseMappingText } from '../../src/mapping/load-mapping'
import type { KoalaEntry } from '../../src/koala/request-schema'

const DEFAULT_TEXT = readFileSync(path.join(__dirname, '..', '..', 'mappings', 'default.json'), 'utf8')
const UUID = '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba'
const UUID2 = '7b1c9a52-0c3e-4f7e-9f4e-2a9d6f0e1b23'

function mapper(edit: (config: any) => void = () => {}) {
  const raw = JSON.parse(DEFAULT_TEXT)
  edit(raw)
  return compileMapping(parseMappingText(JSON.stringify(raw)))
}
const defaultMapper = mapper()

function sent(result: MapResult): KoalaEntry[] {
  if (result.outcome !== 'send') throw new Error(`expected send, got ${JSON.stringify(result)}`)
  return result.entries
}

const track = (extra: Record<string, unknown>) => ({
  type: 'track',
  event: 'Signed Up',
  messageId: 'm-1',
  timestamp: '2026-11-02T10:00:00.000Z',
  properties: { plan: 'team' },
  ...extra
})

describe('compileMapping with the default mapping', () => {
  it('reads a Track call\'s email from context.traits (the Koala Cloud bug), trimmed and lower-cased', () => {
    const entries = sent(defaultMapper.map(track({ context: { traits: { email: '  Ada@Example.COM ' } } })))
    expect(entries).to.deep.equal([
      {
        endpoint: 'batch',
        person: { email: 'ada@example.com' },
        kind: 'events',
        entry: {
          type: 'track',
          event: 'Signed Up',
          properties: { plan: 'team' },
          context: { traits: { email: '  Ada@Example.COM ' } },
          sent_at: '2026-11-02T10:00:00.000Z',
          message_id: 'm-1'
        }
      }
    ])
  })

  it('tries candidate paths in order and skips empty or whitespace-only values', () => {
    const entries = sent(defaultMapper.map(track({ context: { traits: { email: '   ' } }, properties: { email: 'B@x.io' } })))
    expect(entries[0]).to.deep.include({ person: { email: 'b@x.io' } })
  })

  it('treats a profile_id that is not a UUID as missing, and says so', () => {
    const result = defaultMapper.map(track({ properties: { profile_id: 'abc' } }))
    expect(result).to.deep.include({ outcome: 'drop', reason: 'no_identity', messageId: 'm-1' })
    if (result.outcome === 'drop') expect(result.detail).to.contain('$.properties.profile_id is not a UUID')
  })

  it('sends a person known only by profile_id, and by both when both are present', () => {
    expect(sent(defaultMapper.map(track({ properties: { profile_id: UUID } })))[0]).to.deep.include({ person: { profile_id: UUID } })
    const both = sent(defaultMapper.map({ type: 'identify', messageId: 'i', traits: { email: 'a@b.co', profile_id: UUID } }))
    expect(both[0]).to.deep.include({ person: { email: 'a@b.co', profile_id: UUID }, kind: 'identifies' })
  })

  it('drops a call with neither email nor profile_id as no_identity, naming where it looked', () => {
    const result = defaultMapper.map(track({}))
    expect(result).to.deep.include({ outcome: 'drop', reason: 'no_identity' })
    if (result.outcome === 'drop') expect(result.detail).to.contain('$.context.traits.email')
  })

  it('drops analytics.js events as analytics_js and other listed libraries as skipped_library', () => {
    const browser = track({ context: { library: { name: 'analytics.js' }, traits: { email: 'a@b.co' } } })
    expect(defaultMapper.map(browser)).to.deep.include({ outcome: 'drop', reason: 'analytics_js' })
    const other = mapper((c) => (c.skip.libraries = ['analytics-ios']))
    const ios = track({ context: { library: { name: 'analytics-ios' }, traits: { email: 'a@b.co' } } })
    const result = other.map(ios)
    expect(result).to.deep.include({ outcome: 'drop', reason: 'skipped_library' })
    if (result.outcome === 'drop') expect(result.detail).to.contain('analytics-ios')
  })

  it('drops a call no subscription matches as no_subscription', () => {
    expect(defaultMapper.map({ type: 'alias', previousId: 'x', messageId: 'a' })).to.deep.include({ reason: 'no_subscription', messageId: 'a' })
  })

  it('drops an invalid event as invalid_event with the zod path, never throwing', () => {
    const result = defaultMapper.map({ type: 'track', messageId: 'bad' })
    expect(result).to.deep.include({ outcome: 'drop', reason: 'invalid_event', messageId: 'bad' })
    if (result.outcome === 'drop') expect(result.detail).to.match(/^\/event: /)
    expect(defaultMapper.map('nope')).to.deep.include({ reason: 'invalid_event', messageId: null })
  })

  it('takes sent_at from timestamp, else originalTimestamp, else receivedAt', () => {
    const person = { context: { traits: { email: 'a@b.co' } } }
    const sentAt = (extra: Record<string, unknown>) =>
      (sent(defaultMapper.map({ ...track(person), timestamp: undefined, ...extra }))[0].entry as { sent_at?: string }).sent_at
    expect(sentAt({ timestamp: '2026-01-01T00:00:00Z', originalTimestamp: '2025-01-01T00:00:00Z' })).to.equal('2026-01-01T00:00:00.000Z')
    expect(sentAt({ originalTimestamp: '2025-01-01T00:00:00+02:00', receivedAt: '2024-01-01T00:00:00Z' })).to.equal('2024-12-31T22:00:00.000Z')
    expect(sentAt({ receivedAt: '2024-01-01T00:00:00Z' })).to.equal('2024-01-01T00:00:00.000Z')
    expect(sentAt({ timestamp: 'not a date' })).to.equal(undefined)
  })

  it('fills message_id from messageId, and derives a stable one when the event has none', () => {
    const event = track({ messageId: undefined, context: { traits: { email: 'a@b.co' } } })
    delete (event as Record<string, unknown>).messageId
    const first = (sent(defaultMapper.map(event))[0].entry as { message_id: string }).message_id
    const again = (sent(defaultMapper.map(structuredClone(event)))[0].entry as { message_id: string }).message_id
    expect(first).to.match(/^ska-[0-9a-f]{32}$/)
    expect(again).to.equal(first)
  })

  it('maps a Page call to page_views', () => {
    const entries = sent(defaultMapper.map({ type: 'page', name: 'Pricing', messageId: 'p', properties: { url: 'https://x.io', profile_id: UUID } }))
    expect(entries[0]).to.deep.include({ endpoint: 'batch', kind: 'page_views', person: { profile_id: UUID } })
    expect(entries[0].entry).to.deep.include({ type: 'page', name: 'Pricing', message_id: 'p' })
  })

  it('maps a Group call to an account identify: domain from traits.domain, else the host of traits.website', () => {
    const group = (traits: Record<string, unknown>) => sent(defaultMapper.map({ type: 'group', groupId: 'eng', messageId: 'g', traits }))[0]
    expect(group({ domain: 'Acme.com', website: 'https://other.io' })).to.deep.equal({
      endpoint: 'accounts/batch',
      account: { domain: 'acme.com' },
      kind: 'identifies',
      entry: { type: 'identify', message_id: 'g', traits: { domain: 'Acme.com', website: 'https://other.io', group_id: 'eng' } }
    })
    expect(group({ website: 'https://www.acme.com/about?x=1' })).to.deep.include({ account: { domain: 'acme.com' } })
    expect(defaultMapper.map({ type: 'group', groupId: 'eng', traits: { name: 'Acme' } })).to.deep.include({ reason: 'no_identity' })
  })

  it('fires every matching subscription, as Segment does', () => {
    const both = mapper((c) =>
      c.subscriptions.push({
        name: 'Signups as traits',
        subscribe: 'type = "track" and event = "Signed Up"',
        partnerAction: 'identify',
        mapping: { traits: { signed_up: true } }
      })
    )
    const result = both.map(track({ context: { traits: { email: 'a@b.co' } } }), { explain: true })
    expect(sent(result).map((e) => e.kind)).to.deep.equal(['events', 'identifies'])
    expect(result.explain).to.deep.equal({
      matched: ['Track Calls', 'Signups as traits'],
      identity: { email: '$.context.traits.email', profile_id: null },
      notes: []
    })
  })

  it('lets a subscription\'s own email/profile_id win over the workspace identity', () => {
    const override = mapper((c) => {
      c.subscriptions[0].mapping.email = { '@path': '$.properties.work_email' }
      c.subscriptions[0].mapping.profile_id = { '@path': '$.properties.cookie' }
    })
    const event = track({ context: { traits: { email: 'home@b.co' } }, properties: { work_email: 'Work@B.co', cookie: UUID2 } })
    expect(sent(override.map(event))[0]).to.deep.include({ person: { email: 'work@b.co', profile_id: UUID2 } })
    // Where the override finds nothing, the workspace rule still applies.
    expect(sent(override.map(track({ context: { traits: { email: 'home@b.co' } } })))[0]).to.deep.include({ person: { email: 'home@b.co' } })
  })

  it('drops an event whose mapped entry Koala would refuse, naming the field', () => {
    const result = defaultMapper.map({ type: 'identify', messageId: 'v', traits: { email: 'a@b.co', vip: 'yes' } })
    expect(result).to.deep.include({ outcome: 'drop', reason: 'invalid_for_koala' })
    if (result.outcome === 'drop') expect(result.detail).to.match(/\/identifies\/0\/traits\/vip/)
  })

  it('leaves Object.prototype untouched by events carrying __proto__ and constructor keys', () => {
    const hostile = JSON.parse(
      '{"type":"track","event":"x","messageId":"h","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},' +
        '"properties":{"__proto__":{"polluted":1},"email":"a@b.co"},"context":{"__proto__":{"polluted":1}}}'
    )
    const result = defaultMapper.map(hostile)
    expect(result.outcome).to.equal('send')
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined)
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).to.equal(false)
  })
})
