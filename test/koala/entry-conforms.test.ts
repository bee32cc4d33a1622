import { expect } from 'chai'
import type { z } from 'zod'
import { entryConforms } from '../../src/koala/entry-conforms'
import { AccountIdentifyCall, IdentifyCall, PageView, KoalaEventEntry, type KoalaEntry } from '../../src/koala/request-schema'

type Case = { endpoint: KoalaEntry['endpoint']; kind: KoalaEntry['kind']; schema: z.ZodType; base: Record<string, unknown> }

const CASES: Case[] = [
  { endpoint: 'batch', kind: 'events', schema: KoalaEventEntry, base: { type: 'track', event: 'Signed Up', message_id: 'm1', properties: {}, sent_at: '2026-01-02T03:04:05.678Z' } },
  { endpoint: 'accounts/batch', kind: 'events', schema: KoalaEventEntry, base: { type: 'track', event: 'Renewed' } },
  { endpoint: 'batch', kind: 'identifies', schema: IdentifyCall, base: { type: 'identify', traits: { email: 'ada@example.com', vip: true } } },
  { endpoint: 'batch', kind: 'page_views', schema: PageView, base: { type: 'page', name: 'Home', properties: { url: 'https://x' } } },
  { endpoint: 'accounts/batch', kind: 'identifies', schema: AccountIdentifyCall, base: { type: 'identify', traits: { group_id: 'g', headcount: 12 } } }
]

const FIELDS = ['type', 'event', 'message_id', 'properties', 'sent_at', 'name', 'traits', 'extra']
const TRAIT_FIELDS = ['email', 'billing_plan', 'vip', 'is_current_customer', 'group_id', 'headcount', 'other']
const VALUES: unknown[] = [
  undefined, null, '', 'x', 'track', 'identify', 'page', 0, 12, 1.5, 2 ** 53, Number.NaN, true, false, {}, { a: 1 }, [],
  'ada@example.com', 'not an email', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05.678+02:00', '2026-02-30T00:00:00Z', '2026-01-02'
]

const entryOf = (c: Case, value: Record<string, unknown>) => ({ endpoint: c.endpoint, kind: c.kind, entry: value }) as unknown as KoalaEntry

describe('entryConforms', () => {
  it('accepts exactly what the zod entry schemas accept, field by field and trait by trait', () => {
    let accepted = 0
    let refused = 0
    for (const c of CASES) {
      const variants: Array<Record<string, unknown>> = []
      for (const field of FIELDS) for (const value of VALUES) variants.push({ ...c.base, [field]: value })
      for (const trait of TRAIT_FIELDS) for (const value of VALUES) variants.push({ ...c.base, traits: { [trait]: value } })
      for (const variant of variants) {
        const zod = c.schema.safeParse(variant).success
        expect(entryConforms(entryOf(c, variant)), `${c.endpoint} ${c.kind} ${JSON.stringify(variant)}`).to.equal(zod)
        if (zod) accepted++
        else refused++
      }
    }
    expect(accepted).to.be.above(300)
    expect(refused).to.be.above(300)
  })
})
