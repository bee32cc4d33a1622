import { expect } from 'chai'
import { whoConforms } from '../../src/koala/entry-conforms'
import { assertValidRequest, assertValidRequestOfCheckedEntries, checkEntry, type KoalaEntry, type KoalaRequest } from '../../src/koala/request-schema'

/** Who a request may be about: good, bad and missing identities of both endpoints. */
const PEOPLE: Array<Record<string, unknown>> = [
  { email: 'ada@example.com' },
  { profile_id: '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba' },
  { email: 'ada@example.com', profile_id: '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba' },
  {},
  { email: 'not an email' },
  { profile_id: 'nope' },
  { email: 42 },
  { email: null },
  { email: undefined, profile_id: undefined },
  { email: 'ADA@Example.COM' },
  { email: 'ada@example' },
  { profile_id: '3E6A2C18-3B02-40C4-B8D2-1842C193D3BA' },
  { profile_id: '00000000-0000-0000-0000-000000000000' },
  { profile_id: '3e6a2c18-3b02-90c4-b8d2-1842c193d3ba' },
  { profile_id: ' 3e6a2c18-3b02-40c4-b8d2-1842c193d3ba' },
  { email: 'ada@example.com', profile_id: 'nope' },
  { email: 'ada@example.com', extra: { any: 'thing' } }
]
const ACCOUNTS: Array<Record<string, unknown>> = [
  { domain: 'acme.com' },
  { account_id: 'a-1' },
  {},
  { domain: 7 },
  { domain: '' },
  { account_id: null, domain: 'acme.com' },
  { account_id: undefined, domain: undefined },
  { account_id: 'a-1', domain: ['acme.com'] }
]

/** Entries of every kind, good and bad, by endpoint. */
const ENTRIES: Record<KoalaRequest['endpoint'], Array<[string, Record<string, unknown>]>> = {
  batch: [
    ['events', { type: 'track', event: 'Signed Up', message_id: 'm1', properties: { plan: 'pro' }, sent_at: '2026-11-01T00:00:00.000Z' }],
    ['events', { type: 'track', event: 'x', sent_at: 'yesterday' }],
    ['events', { type: 'track' }],
    ['identifies', { type: 'identify', traits: { email: 'ada@example.com', vip: true } }],
    ['identifies', { type: 'identify', traits: { vip: 'yes' } }],
    ['page_views', { type: 'page', name: 'Home', message_id: 'p1' }],
    ['page_views', { type: 'page', properties: 'not an object' }]
  ],
  'accounts/batch': [
    ['identifies', { type: 'identify', traits: { group_id: 'g', headcount: 12 } }],
    ['identifies', { type: 'identify', traits: { headcount: 1.5 } }],
    ['events', { type: 'track', event: 'Upgraded' }],
    ['events', { type: 'track', event: 3 }]
  ]
}

function passes(check: () => unknown): boolean {
  try {
    check()
    return true
  } catch {
    return false
  }
}

/** A small deterministic PRNG, so every run checks the same bodies. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32
}

describe('assertValidRequestOfCheckedEntries', () => {
  it('checks who a request is about as zod does, without zod: same answer for every identity', () => {
    for (const [endpoint, list] of [['batch', PEOPLE], ['accounts/batch', ACCOUNTS]] as const) {
      for (const who of list) {
        const zodSays = passes(() => assertValidRequest({ endpoint, body: who } as KoalaRequest))
        expect(whoConforms(endpoint, who), `${endpoint} ${JSON.stringify(who)}`).to.equal(zodSays)
      }
    }
  })

  it('agrees with the whole-body check on every body: whole passes exactly when each entry passes checkEntry and the rest passes', () => {
    const random = seeded(7)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]
    let checked = 0
    for (let round = 0; round < 3000; round++) {
      const endpoint = random() < 0.6 ? 'batch' : 'accounts/batch'
      const who = pick(endpoint === 'batch' ? PEOPLE : ACCOUNTS)
      const body: Record<string, unknown[]> = {}
      const entries: KoalaEntry[] = []
      const count = Math.floor(random() * 4) === 0 ? 31 : 1 + Math.floor(random() * 4)
      for (let i = 0; i < count; i++) {
        const [kind, entry] = pick(ENTRIES[endpoint])
        ;(body[kind] ??= []).push(entry)
        entries.push({ endpoint, kind, entry, ...(endpoint === 'batch' ? { person: who } : { account: who }) } as unknown as KoalaEntry)
      }
      const request = { endpoint, body: { ...who, ...body } } as KoalaRequest
      const whole = passes(() => assertValidRequest(request))
      const entriesPass = entries.every((entry) => checkEntry(entry) === undefined)
      const rest = passes(() => assertValidRequestOfCheckedEntries(request))
      expect(whole, JSON.stringify(request)).to.equal(entriesPass && rest)
      if (entriesPass) checked++
    }
    // Enough bodies of checked entries, over and under the limit, with good and bad identities.
    expect(checked).to.be.above(300)
  })
})
