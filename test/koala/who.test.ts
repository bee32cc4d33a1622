import { expect } from 'chai'
import { keyOfEntry, toKoalaRequest, EntryGrouper } from '../../src/koala/batcher'
import { renderEntry, renderRequest, type RenderedEntry } from '../../src/koala/rendered-request'
import type { Account, KoalaEntry, Person } from '../../src/koala/request-schema'
import { whoKey, whoKeyOfRequest } from '../../src/koala/who'
import { seededRandom } from '../support/seeded-random'

const ADA: Person = { email: 'ada@example.com', profile_id: '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba' }
const entriesOf = (person: Person): KoalaEntry[] => [
  { endpoint: 'batch', person, kind: 'events', entry: { type: 'track', event: 'Signed Up', message_id: 'm1' } },
  { endpoint: 'batch', person, kind: 'identifies', entry: { type: 'identify', traits: { plan: 'pro' } } },
  { endpoint: 'batch', person, kind: 'page_views', entry: { type: 'page', name: 'Home', message_id: 'm2' } }
]

// The JSON-ish fragments a key's parts are glued with, in values: none may let one pair pass for another.
const TRICKY = ['', 'a', '"', '\\', ',', ':', '}', '{', '\u0000', '\n', '\u2028', '\ud83d\ude00', '\ud800', '"profile_id":"', '","email":"', 'x"}', 'ada@example.com']

describe('whoKey: one key for who a request is about', () => {
  it('gives a person one key whatever the entry kind, and whatever object holds the same pair', () => {
    const keys = entriesOf(ADA).map(keyOfEntry)
    expect(new Set(keys).size).to.equal(1)
    // The same pair built in the other order (a subscription override might): still one person.
    const reordered: Person = { profile_id: ADA.profile_id, email: ADA.email }
    expect(entriesOf(reordered).map(keyOfEntry)).to.deep.equal(keys)
    // Both request forms answer the same key: what the replay's sink orders a person's requests by.
    const [entry] = entriesOf(ADA)
    const request = toKoalaRequest(groupOf([entry]))
    const grouper = new EntryGrouper<RenderedEntry>((rendered) => rendered.key)
    grouper.add(renderEntry(entry))
    const rendered = renderRequest(grouper.flush()[0])
    expect(whoKeyOfRequest(request)).to.equal(keys[0])
    expect(whoKeyOfRequest(rendered)).to.equal(keys[0])
    expect(rendered.body).to.equal(JSON.stringify(request.body))
  })

  it('never gives a person and an account the same key, even with the same values', () => {
    for (const value of TRICKY.filter((v) => v !== '')) {
      const people: Person[] = [{ email: value }, { profile_id: value }, { email: value, profile_id: value }]
      const accounts: Account[] = [{ domain: value }, { account_id: value }, { domain: value, account_id: value }]
      for (const person of people) for (const account of accounts) expect(whoKey('batch', person)).not.to.equal(whoKey('accounts/batch', account))
    }
  })

  it('tells pairs apart that only differ in where one field ends and the next begins (no separator collides)', () => {
    const random = seededRandom(13)
    const pick = (): string | undefined => {
      const n = Math.floor(random() * (TRICKY.length + 1))
      if (n === TRICKY.length) return undefined
      return TRICKY[n] + (random() < 0.5 ? TRICKY[Math.floor(random() * TRICKY.length)] : '')
    }
    const seen = new Map<string, string>()
    for (let i = 0; i < 5_000; i++) {
      const person: Person = {}
      const email = pick()
      const id = pick()
      if (email !== undefined) person.email = email
      if (id !== undefined) person.profile_id = id
      const pair = JSON.stringify([email ?? null, id ?? null])
      const key = whoKey('batch', person)
      const earlier = seen.get(key)
      if (earlier !== undefined) expect(earlier, `key ${JSON.stringify(key)}`).to.equal(pair)
      seen.set(key, pair)
      // The key is the endpoint and JSON.stringify's text of exactly that pair, so it reads back to it.
      expect(key).to.equal('batch' + JSON.stringify({ email, profile_id: id }))
      expect(JSON.parse(key.slice('batch'.length))).to.deep.equal(person)
    }
    expect(seen.size).to.be.above(500)
  })
})

function groupOf(entries: KoalaEntry[]) {
  const grouper = new EntryGrouper<KoalaEntry>(keyOfEntry)
  for (const entry of entries) grouper.add(entry)
  return grouper.flush()[0]
}
