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
  it('reads a Track call\'s email from context.traits last, and writes it normalised everywhere it appears', () => {
    const entries = sent(defaultMapper.map(track({ context: { traits: { email: '  Ada@Example.COM ' } } })))
    expect(entries).to.deep.equal([
      {
        endpoint: 'batch',
        person: { email: 'ada@example.com' },
        bodyFields: { traits: { email: 'ada@example.com' } },
        kind: 'events',
        entry: {
          type: 'track',
          event: 'Signed Up',
          email: 'ada@example.com',
          properties: { plan: 'team' },
          context: { traits: { email: 'ada@example.com' } },
          traits: { email: 'ada@example.com' },
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
    // A group call is about an account: its drop names the account's fields, not the person paths it never read.
    expect(defaultMapper.map({ type: 'group', groupId: 'eng', traits: { name: 'Acme', email: 'ada@example.com' } })).to.deep.include({
      reason: 'no_identity',
      detail: 'Group Calls: no valid domain or account_id for the account (domain candidates: [0] is missing; [1] is missing)'
    })
  })

  it('shares event data with its entries and never changes the event: frozen events map as thawed copies do', () => {
    const deepFreeze = <T>(value: T): T => {
      if (typeof value === 'object' && value !== null) {
        for (const child of Object.values(value)) deepFreeze(child)
        Object.freeze(value)
      }
      return value
    }
    const events: Array<Record<string, unknown>> = [
      track({ context: { traits: { email: ' Ada@Example.com ' }, library: { name: 'analytics-node' } }, properties: { plan: 'team', tags: ['a'] } }),
      // Traits Koala types are converted (a copy is made): vip "true" → true, headcount "50" → 50.
      { type: 'identify', messageId: 'i', userId: 'u', traits: { email: 'Ada@Example.com', vip: 'true', name: 'Ada' } },
      { type: 'group', groupId: 'eng', messageId: 'g', traits: { domain: 'acme.com', headcount: '50', vip: 'yes' } }
    ]
    for (const event of events) {
      const thawed = defaultMapper.map(JSON.parse(JSON.stringify(event)))
      const frozen = defaultMapper.map(deepFreeze(event))
      expect(frozen, JSON.stringify(event)).to.deep.equal(thawed)
      expect(frozen.outcome).to.equal('send')
    }
    const entry = sent(defaultMapper.map(events[0])).map((e) => e.entry as { properties?: unknown })[0]
    expect(entry.properties, 'properties shared, not copied').to.equal(events[0].properties)
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
    // An unusable override (not an email, not a UUID) counts as missing too, and is noted.
    const bad = override.map(track({ context: { traits: { email: 'home@b.co' } }, properties: { work_email: 'nope', cookie: 'x' } }), { explain: true })
    expect(sent(bad)[0]).to.deep.include({ person: { email: 'home@b.co' } })
    expect(bad.explain!.notes).to.include.members(['subscription mapping: email is not an email address', 'subscription mapping: profile_id is not a UUID'])
  })

  it('drops an event whose mapped entry Koala would refuse, naming the field', () => {
    const numbered = mapper((c) => (c.subscriptions[0].mapping.event = { '@path': '$.properties.n' }))
    const result = numbered.map(track({ properties: { n: 5, email: 'a@b.co' } }))
    expect(result).to.deep.include({ outcome: 'drop', reason: 'invalid_for_koala' })
    if (result.outcome === 'drop') expect(result.detail).to.match(/^Track Calls: \/events\/0\/event: /)
  })

  it('keeps an identify whose typed traits are off: converts what converts losslessly, leaves out the rest, and says so', () => {
    const result = defaultMapper.map(
      { type: 'identify', messageId: 'v', traits: { email: ' Ada@Example.com ', vip: 'yes', is_current_customer: 'TRUE', billing_plan: 3, other: 'kept' } },
      { explain: true }
    )
    const [entry] = sent(result)
    expect(entry).to.deep.include({ person: { email: 'ada@example.com' } })
    expect((entry.entry as any).traits).to.deep.equal({ email: 'ada@example.com', is_current_customer: true, billing_plan: '3', other: 'kept' })
    expect(result.explain!.notes).to.deep.equal(['traits.vip left out: Koala wants a boolean'])
    const unusable = sent(defaultMapper.map({ type: 'identify', messageId: 'w', traits: { email: 'ada' }, context: { traits: { email: 'a@b.co' } } }))
    expect(unusable[0]).to.deep.include({ person: { email: 'a@b.co' } })
    expect((unusable[0].entry as any).traits).to.deep.equal({})
  })

  it('conforms account traits: headcount "50" becomes 50, a float is left out', () => {
    const group = (traits: Record<string, unknown>) => (sent(defaultMapper.map({ type: 'group', groupId: 7, messageId: 'g', traits }))[0].entry as any).traits
    expect(group({ domain: 'acme.com', headcount: '50', vip: 'false' })).to.deep.equal({ domain: 'acme.com', headcount: 50, vip: false, group_id: '7' })
    expect(group({ domain: 'acme.com', headcount: 12.5 })).to.deep.equal({ domain: 'acme.com', group_id: '7' })
  })

  it('takes the first valid domain: a bad traits.domain falls back to traits.website, and nothing invalid is sent', () => {
    const account = (traits: Record<string, unknown>) => defaultMapper.map({ type: 'group', groupId: 'g', messageId: 'g', traits })
    expect(sent(account({ domain: 'Acme Inc', website: 'https://acme.io/x' }))[0]).to.deep.include({ account: { domain: 'acme.io' } })
    expect(sent(account({ domain: 'user@acme.com', website: 'http://www.acme.co.uk:8080' }))[0]).to.deep.include({ account: { domain: 'acme.co.uk' } })
    expect(account({ domain: 'localhost', website: 'not a url' })).to.deep.include({ outcome: 'drop', reason: 'no_identity' })
  })

  it('skips only the listed call types of a skipped library: identifies and groups from analytics.js still go', () => {
    const browser = { library: { name: 'analytics.js' }, traits: { email: 'a@b.co' } }
    expect(defaultMapper.map(track({ context: browser }))).to.deep.include({ reason: 'analytics_js' })
    expect(defaultMapper.map({ type: 'page', messageId: 'p', context: browser })).to.deep.include({ reason: 'analytics_js' })
    expect(defaultMapper.map({ type: 'identify', messageId: 'i', traits: { email: 'a@b.co' }, context: browser }).outcome).to.equal('send')
    expect(defaultMapper.map({ type: 'group', groupId: 'g', messageId: 'g', traits: { domain: 'acme.com' }, context: browser }).outcome).to.equal('send')
  })

  it('falls back to the next time when timestamp is present but garbled', () => {
    const entry = sent(defaultMapper.map(track({ timestamp: 'yesterday-ish', originalTimestamp: '2026-01-02T03:04:05Z', properties: { email: 'a@b.co' } })))[0]
    expect((entry.entry as any).sent_at).to.equal('2026-01-02T03:04:05.000Z')
  })

  it('lower-cases a profile_id, so one person\'s entries share a request', () => {
    const upper = UUID.toUpperCase()
    expect(sent(defaultMapper.map(track({ properties: { profile_id: upper } })))[0]).to.deep.include({ person: { profile_id: UUID } })
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

describe('compileMapping: what Koala\'s own Segment integration sends, with the default mapping', () => {
  const only = (result: MapResult): KoalaEntry & { endpoint: 'batch' } => sent(result)[0] as KoalaEntry & { endpoint: 'batch' }

  it('gives a Track call the request ip from properties.ip, else context.ip, and the entry device_ip, email and traits', () => {
    const event = track({ properties: { email: 'a@b.co', ip: ' 198.51.100.7 ' }, context: { ip: '203.0.113.9', traits: { name: 'Ada', vip: 'true' } } })
    const entry = only(defaultMapper.map(event))
    expect(entry.bodyFields).to.deep.equal({ traits: { name: 'Ada', vip: true }, ip: '198.51.100.7' })
    expect(entry.entry).to.deep.include({ email: 'a@b.co', device_ip: '203.0.113.9', traits: { name: 'Ada', vip: true } })
    expect(only(defaultMapper.map(track({ properties: { email: 'a@b.co' }, context: { ip: '203.0.113.9' } }))).bodyFields).to.deep.equal({ ip: '203.0.113.9' })
  })

  it('gives an Identify call its traits and traits.ip as the request\'s, and context.source "segment-cloud"', () => {
    const identify = { type: 'identify', messageId: 'i-1', traits: { email: 'A@B.co', ip: '2001:db8::1', plan: 'pro' }, context: { ip: '203.0.113.9', library: { name: 'analytics-node' } } }
    const entry = only(defaultMapper.map(identify))
    expect(entry.bodyFields).to.deep.equal({ traits: { email: 'a@b.co', ip: '2001:db8::1', plan: 'pro' }, ip: '2001:db8::1' })
    expect(entry.entry).to.deep.include({ email: 'a@b.co', device_ip: '203.0.113.9' })
    expect((entry.entry as Record<string, unknown>).context).to.deep.equal({ ip: '203.0.113.9', library: { name: 'analytics-node' }, source: 'segment-cloud' })
    const bare = only(defaultMapper.map({ type: 'identify', messageId: 'i-2', traits: { email: 'a@b.co' } }))
    expect((bare.entry as Record<string, unknown>).context).to.deep.equal({ source: 'segment-cloud' })
  })

  it('gives a Page call the same fields as a Track call', () => {
    const page = { type: 'page', messageId: 'p-1', name: 'Pricing', properties: { url: 'https://acme.com/pricing' }, context: { ip: '203.0.113.9', traits: { email: 'a@b.co' } } }
    const entry = only(defaultMapper.map(page))
    expect(entry.kind).to.equal('page_views')
    expect(entry.bodyFields).to.deep.equal({ traits: { email: 'a@b.co' }, ip: '203.0.113.9' })
    expect(entry.entry).to.deep.include({ email: 'a@b.co', device_ip: '203.0.113.9', traits: { email: 'a@b.co' } })
  })

  it('leaves out an ip or device_ip that is not an IP address, and a traits value that is not an object, saying so', () => {
    const event = track({ properties: { email: 'a@b.co', ip: 'localhost' }, context: { ip: '999.1.1.1', traits: 'Ada' } })
    const result = defaultMapper.map(event, { explain: true })
    const entry = only(result)
    expect(entry.bodyFields).to.equal(undefined)
    expect(entry.entry).to.not.have.any.keys('device_ip', 'traits')
    expect(result.explain?.notes).to.include.members(['device_ip left out: not an IP address', 'ip left out: not an IP address', 'traits left out: not an object'])
  })

  it('sends an "Invited Teammate" track to the invitee in properties.email, not the inviter in context.traits', () => {
    const event = track({ event: 'Invited Teammate', properties: { email: 'invitee@acme.com' }, context: { traits: { email: 'inviter@acme.com' } } })
    expect(only(defaultMapper.map(event)).person).to.deep.equal({ email: 'invitee@acme.com' })
  })

  it('reads a top-level email before properties.email, after traits.email', () => {
    expect(only(defaultMapper.map(track({ email: 'top@acme.com', properties: { email: 'p@acme.com' } }))).person).to.deep.equal({ email: 'top@acme.com' })
    const identify = { type: 'identify', messageId: 'i', email: 'top@acme.com', traits: { email: 't@acme.com' } }
    expect(only(defaultMapper.map(identify)).person).to.deep.equal({ email: 't@acme.com' })
  })

  it('counts an empty or whitespace-only messageId as missing, and sends a numeric one as its decimal string', () => {
    for (const messageId of ['', '   ']) {
      const result = defaultMapper.map(track({ messageId, properties: { email: 'a@b.co' } }))
      expect(result.messageId).to.equal(null)
      expect((only(result).entry as { message_id: string }).message_id).to.match(/^ska-[0-9a-f]{32}$/)
    }
    const numeric = defaultMapper.map(track({ messageId: 12345, properties: { email: 'a@b.co' } }))
    expect(numeric.messageId).to.equal('12345')
    expect((only(numeric).entry as { message_id: string }).message_id).to.equal('12345')
  })
})
