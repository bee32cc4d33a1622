import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { groupByPerson } from '../../src/koala/batcher'
import { ProfileBatchRequest } from '../../src/koala/request-schema'
import { compileMapping } from '../../src/mapping/compile-mapping'
import { parseMappingText } from '../../src/mapping/load-mapping'
import { seededRandom } from '../support/seeded-random'

/*
 * A mapping file pasted from Segment's Koala (Cloud) presets (each field's default
 * directive, as Segment's UI shows it) against Segment's own destination. The fields are
 * mapped by Segment's real mapping-kit (transform() of @segment/actions-core); the
 * request is then built as the destination's perform() builds it
 * (segmentio/action-destinations, destinations/koala/track and identify, as
 * ../shared/koala/API.md lists it). On clean data the two requests must be the same,
 * but for the differences the README documents.
 */

const ROOT = path.join(__dirname, '..', '..')
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'segment-koala-presets.json')
const { transform } = require('@segment/actions-core') as { transform: (mapping: unknown, data: unknown) => Record<string, any> }

type Json = Record<string, any>

/** What Segment's Koala destination sends for one event, or undefined when it sends nothing. */
function segmentRequest(mappingFile: Json, event: Json): Json | undefined {
  const subscription = mappingFile.subscriptions.find((s: Json) => s.partnerAction === event.type)
  if (subscription === undefined) return undefined
  const payload = transform(structuredClone(subscription.mapping), structuredClone(event))
  const track = event.type === 'track'
  // Its track action skips browser events; both read the identity and ip from properties (track) or traits (identify).
  if (track && payload.context?.library?.name === 'analytics.js') return undefined
  const holder = track ? payload.properties : payload.traits
  const traits = payload.traits ?? {}
  const entry = track ? { type: 'track', ...payload } : { type: 'identify', ...payload, context: { ...(payload.context ?? {}), source: 'segment-cloud' } }
  const body = {
    profile_id: holder?.profile_id,
    email: payload.email ?? holder?.email ?? traits.email,
    traits,
    ip: holder?.ip ?? payload.device_ip,
    [track ? 'events' : 'identifies']: [entry]
  }
  return body.profile_id || body.email ? JSON.parse(JSON.stringify(body)) : undefined
}

/** Segment's request with our documented differences applied, for clean data. */
function withOurDifferences(body: Json, event: Json): Json {
  // An empty traits object says nothing: we leave it out.
  if (Object.keys(body.traits).length === 0) delete body.traits
  // An identify's email falls back to context.traits.email, which Segment's never reads.
  if (body.email === undefined && event.type === 'identify' && event.context?.traits?.email !== undefined) body.email = event.context.traits.email
  // Every entry carries the person's email, also where Segment's `email` field found none.
  for (const list of [body.events, body.identifies]) {
    for (const entry of list ?? []) if (entry.email === undefined && body.email !== undefined) entry.email = body.email
  }
  return body
}

/** Random clean Spec calls: emails lower-case, UUIDs and IPs valid, timestamps in toISOString() form. */
function generateEvents(count: number, seed: number): Json[] {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
  const maybe = (p: number) => random() < p
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('')
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`
  const ip = () => (maybe(0.8) ? `${1 + Math.floor(random() * 220)}.${Math.floor(random() * 256)}.7.${Math.floor(random() * 256)}` : '2001:db8::' + hex(4))
  const email = () => `${pick(['ada', 'grace', 'alan', 'edsger'])}${Math.floor(random() * 50)}@${pick(['acme.com', 'example.org'])}`
  const events: Json[] = []
  for (let i = 0; i < count; i++) {
    const type = pick(['track', 'track', 'identify', 'identify', 'page'] as const)
    const event: Json = {
      type,
      messageId: `m-${seed}-${i}`,
      timestamp: `2026-11-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}T10:${String(Math.floor(random() * 60)).padStart(2, '0')}:00.000Z`,
      context: { library: { name: maybe(0.2) ? 'analytics.js' : 'analytics-node', version: '3.1.0' } }
    }
    if (maybe(0.6)) event.context.ip = ip()
    if (maybe(0.5)) event.context.traits = { name: pick(['Ada', 'Grace']), ...(maybe(0.4) ? { email: email() } : {}), ...(maybe(0.3) ? { vip: maybe(0.5) } : {}) }
    const holder = type === 'identify' ? 'traits' : 'properties'
    event[holder] = { plan: pick(['team', 'pro']) }
    if (type === 'track') event.event = pick(['Signed Up', 'Invited Teammate', 'Upgraded'])
    if (type === 'identify' && maybe(0.5)) event.traits.email = email()
    if (type === 'track' && maybe(0.3)) event.properties.email = email()
    if (maybe(0.15)) event.email = email()
    if (maybe(0.4)) event[holder].profile_id = uuid()
    if (maybe(0.2)) event[holder].ip = ip()
    events.push(event)
  }
  return events
}

describe('Segment\'s Koala (Cloud) presets, pasted', () => {
  const text = readFileSync(FIXTURE, 'utf8')
  const file = JSON.parse(text)

  it('pass `koala-adapter check`', function () {
    this.timeout(60_000)
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'koala-adapter.js'), 'check', FIXTURE], { cwd: ROOT, encoding: 'utf8' })
    expect(run.stdout + run.stderr).to.contain(`ok ${FIXTURE}`)
    expect(run.status).to.equal(0)
  })

  it('send what Segment\'s destination sends on 2,000 clean events, but for the documented differences', () => {
    const mapping = compileMapping(parseMappingText(text))
    let sent = 0
    let skipped = 0
    for (const event of generateEvents(2000, 11)) {
      const theirs = segmentRequest(file, event)
      const result = mapping.map(structuredClone(event), { explain: true })
      const where = `event ${JSON.stringify(event)}`
      if (theirs === undefined) {
        // Segment's identify never reads context.traits.email: where that is the only email, we still send.
        if (result.outcome === 'send') expect(event.type === 'identify' && result.explain?.identity.email, where).to.equal('$.context.traits.email')
        else skipped++
        continue
      }
      expect(result.outcome, where).to.equal('send')
      if (result.outcome !== 'send') continue
      const requests = groupByPerson(result.entries)
      expect(requests, where).to.have.length(1)
      const ours = JSON.parse(JSON.stringify(requests[0].body))
      expect(ProfileBatchRequest.safeParse(ours).success, where).to.equal(true)
      expect(ours, where).to.deep.equal(withOurDifferences(theirs, event))
      sent++
    }
    // The comparison means something only if both outcomes, and the new fields, came up often.
    expect(sent).to.be.greaterThan(600)
    expect(skipped).to.be.greaterThan(300)
  })

  it('differ where the README says: emails normalised everywhere, bad values left out, more identity found', () => {
    const mapping = compileMapping(parseMappingText(text))
    const event = {
      type: 'track',
      event: 'Invited Teammate',
      messageId: 'm-1',
      timestamp: '2026-11-02T10:00:00.000Z',
      properties: { email: ' Invitee@Acme.com', ip: 'not-an-ip' },
      context: { ip: '203.0.113.9', traits: { email: 'Inviter@Acme.com', profile_id: '3E6A2C18-3B02-40C4-B8D2-1842C193D3BA' } }
    }
    const theirs = segmentRequest(file, event)!
    expect(theirs.email).to.equal(' Invitee@Acme.com')
    expect(theirs.ip).to.equal('not-an-ip')
    expect(theirs.profile_id).to.equal(undefined)
    const result = mapping.map(event)
    if (result.outcome !== 'send') throw new Error(JSON.stringify(result))
    const ours = groupByPerson(result.entries)[0].body as Json
    expect(ours).to.deep.include({ email: 'invitee@acme.com', ip: '203.0.113.9', profile_id: '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba' })
    expect(ours.traits).to.deep.equal({ email: 'inviter@acme.com', profile_id: '3E6A2C18-3B02-40C4-B8D2-1842C193D3BA' })
    expect(ours.events[0]).to.deep.include({ email: 'invitee@acme.com', device_ip: '203.0.113.9' })
    expect(ours.events[0].properties).to.deep.equal({ email: 'invitee@acme.com', ip: 'not-an-ip' })
    expect(ours.events[0].context.traits.email).to.equal('inviter@acme.com')
  })
})
