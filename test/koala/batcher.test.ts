import { expect } from 'chai'
import { EntryGrouper, groupByPerson, KoalaBatcher } from '../../src/koala/batcher'
import { renderEntry, renderRequest, type RenderedEntry } from '../../src/koala/rendered-request'
import { checkEntry, ProfileBatchRequest, type BodyFields, type KoalaEntry, type Person } from '../../src/koala/request-schema'

const ADA = { email: 'ada@example.com' }
const ADA_COOKIE = { email: 'ada@example.com', profile_id: '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba' }
const BOB = { profile_id: '7b1c9a52-0c3e-4f7e-9f4e-2a9d6f0e1b23' }

function track(person: Person, n: number): KoalaEntry {
  return { endpoint: 'batch', person, kind: 'events', entry: { type: 'track', event: `E${n}`, message_id: `m${n}` } }
}

describe('KoalaBatcher', () => {
  it('turns one person\'s 65 events into 3 requests of 30, 30 and 5, in order', () => {
    const entries = Array.from({ length: 65 }, (_, i) => track(ADA, i))
    const requests = groupByPerson(entries)
    expect(requests.map((r) => (r.body as ProfileBatchRequest).events!.length)).to.deep.equal([30, 30, 5])
    const names = requests.flatMap((r) => (r.body as ProfileBatchRequest).events!.map((e) => e.event))
    expect(names).to.deep.equal(entries.map((e) => (e.entry as { event: string }).event))
  })

  it('keeps the exact profile_id+email pair apart: same email with and without a cookie are two people', () => {
    const requests = groupByPerson([track(ADA, 1), track(ADA_COOKIE, 2), track(ADA, 3), track(BOB, 4)])
    expect(requests.map((r) => r.body)).to.deep.equal([
      { email: 'ada@example.com', events: [{ type: 'track', event: 'E1', message_id: 'm1' }, { type: 'track', event: 'E3', message_id: 'm3' }] },
      { ...ADA_COOKIE, events: [{ type: 'track', event: 'E2', message_id: 'm2' }] },
      { ...BOB, events: [{ type: 'track', event: 'E4', message_id: 'm4' }] }
    ])
  })

  it('counts the limit per kind: 30 events and 30 identifies share one request', () => {
    const entries: KoalaEntry[] = []
    for (let i = 0; i < 30; i++) {
      entries.push(track(ADA, i))
      entries.push({ endpoint: 'batch', person: ADA, kind: 'identifies', entry: { type: 'identify', traits: { n: i } } })
    }
    const requests = groupByPerson(entries)
    expect(requests).to.have.length(1)
    expect((requests[0].body as ProfileBatchRequest).identifies).to.have.length(30)
  })

  it('groups account entries by account_id and domain', () => {
    const account = (domain: string, n: number): KoalaEntry => ({
      endpoint: 'accounts/batch',
      account: { domain },
      kind: 'identifies',
      entry: { type: 'identify', traits: { group_id: `g${n}` } }
    })
    const requests = groupByPerson([account('acme.com', 1), account('initech.com', 2), account('acme.com', 3)])
    expect(requests).to.deep.equal([
      { endpoint: 'accounts/batch', body: { domain: 'acme.com', identifies: [{ type: 'identify', traits: { group_id: 'g1' } }, { type: 'identify', traits: { group_id: 'g3' } }] } },
      { endpoint: 'accounts/batch', body: { domain: 'initech.com', identifies: [{ type: 'identify', traits: { group_id: 'g2' } }] } }
    ])
  })

  it('reports the request it closed when a person\'s open request is full, and its size', () => {
    const batcher = new KoalaBatcher(2)
    expect(batcher.add(track(ADA, 1))).to.equal(undefined)
    expect(batcher.add(track(BOB, 2))).to.equal(undefined)
    expect(batcher.add(track(ADA, 3))).to.equal(undefined)
    expect(batcher.size).to.equal(3)
    const closed = batcher.add(track(ADA, 4))
    expect((closed!.body as ProfileBatchRequest).events!.map((e) => e.event)).to.deep.equal(['E1', 'E3'])
    expect(batcher.size).to.equal(2)
    expect(batcher.flush().map((r) => (r.body as ProfileBatchRequest).events!.map((e) => e.event))).to.deep.equal([['E2'], ['E4']])
    expect(batcher.size).to.equal(0)
  })

  it('closes the oldest open request first, one at a time, and keeps the others filling', () => {
    const batcher = new KoalaBatcher(2)
    batcher.add(track(ADA, 1))
    batcher.add(track(BOB, 2))
    batcher.add(track(ADA, 3))
    // ADA's first request is full and closes; her fresh one is now younger than BOB's.
    batcher.add(track(ADA, 4))
    const events = (request: unknown) => ((request as { body: ProfileBatchRequest }).body.events ?? []).map((e) => e.event)
    expect(events(batcher.flushOldest())).to.deep.equal(['E2'])
    expect(batcher.size).to.equal(1)
    batcher.add(track(BOB, 5))
    expect(events(batcher.flushOldest())).to.deep.equal(['E4'])
    expect(events(batcher.flushOldest())).to.deep.equal(['E5'])
    expect(batcher.flushOldest()).to.equal(undefined)
    expect(batcher.size).to.equal(0)
  })

  it('refuses to return a body that fails Koala\'s schema in what its entries\' own checks do not cover: who it is about', () => {
    expect(() => groupByPerson([track({}, 1)])).to.throw(/fails Koala's schema/)
    expect(() => groupByPerson([track({ profile_id: 'nope' }, 1)])).to.throw(/profile_id/)
    const batcher = new KoalaBatcher(30)
    batcher.add(track({ email: 'not an email' }, 1))
    expect(() => batcher.flush()).to.throw(/fails Koala's schema/)
  })
})

describe('checkEntry', () => {
  it('names the field of an entry Koala would refuse', () => {
    const entry = { endpoint: 'batch', person: ADA, kind: 'identifies', entry: { type: 'identify', traits: { vip: 'yes' } } } as unknown as KoalaEntry
    expect(checkEntry(entry)).to.match(/^\/identifies\/0\/traits\/vip: /)
    expect(checkEntry(track(ADA, 1))).to.equal(undefined)
  })
})

describe('body fields (traits, ip) of a person\'s request', () => {
  const withFields = (n: number, bodyFields: BodyFields, kind: 'events' | 'identifies' = 'events'): KoalaEntry =>
    kind === 'events'
      ? { ...track(ADA, n), bodyFields } as KoalaEntry
      : { endpoint: 'batch', person: ADA, bodyFields, kind: 'identifies', entry: { type: 'identify', traits: { n } } }

  it('merges the entries\' traits in the order they came, across kinds, and keeps the newest ip', () => {
    const [request] = groupByPerson([
      withFields(1, { traits: { plan: 'free', name: 'Ada' }, ip: '203.0.113.1' }),
      withFields(2, { traits: { plan: 'pro' } }, 'identifies'),
      withFields(3, { ip: '203.0.113.3' }),
      track(ADA, 4)
    ])
    const body = request.body as Record<string, unknown>
    expect(body.traits).to.deep.equal({ plan: 'pro', name: 'Ada' })
    expect(body.ip).to.equal('203.0.113.3')
    expect(Object.keys(body)).to.deep.equal(['email', 'traits', 'ip', 'events', 'identifies'])
  })

  it('leaves both out when no entry has them, and never changes an entry\'s own traits', () => {
    const shared = { plan: 'free' }
    const [request] = groupByPerson([withFields(1, { traits: shared }), withFields(2, { traits: { vip: true } })])
    expect(shared).to.deep.equal({ plan: 'free' })
    expect((request.body as Record<string, unknown>).traits).to.deep.equal({ plan: 'free', vip: true })
    expect(groupByPerson([track(ADA, 1)])[0].body).to.not.have.any.keys('traits', 'ip')
  })

  it('keeps an own "__proto__" trait an ordinary key when merging', () => {
    const evil = JSON.parse('{"__proto__": {"polluted": true}, "plan": "pro"}') as Record<string, unknown>
    const [request] = groupByPerson([withFields(1, { traits: { a: 1 } }), withFields(2, { traits: evil })])
    const traits = (request.body as { traits: Record<string, unknown> }).traits
    expect(Object.getPrototypeOf(traits)).to.equal(Object.prototype)
    expect(Object.keys(traits)).to.deep.equal(['a', '__proto__', 'plan'])
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined)
  })

  it('renders the same JSON text from rendered entries as from objects, whether the fields differ or not', () => {
    const cases: KoalaEntry[][] = [
      [withFields(1, { traits: { plan: 'free' }, ip: '203.0.113.1' }), withFields(2, { traits: { plan: 'free' }, ip: '203.0.113.1' })],
      [withFields(1, { traits: { plan: 'free' } }), track(ADA, 2), withFields(3, { traits: { vip: true }, ip: '2001:db8::1' }, 'identifies')],
      [track(ADA, 1)]
    ]
    for (const entries of cases) {
      const grouper = new EntryGrouper<RenderedEntry>((entry) => entry.key)
      for (const entry of entries) grouper.add(renderEntry(entry))
      const [rendered] = grouper.flush().map(renderRequest)
      expect(rendered.body).to.equal(JSON.stringify(groupByPerson(entries)[0].body))
    }
  })
})
