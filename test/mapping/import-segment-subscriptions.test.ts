import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { AdapterError } from '../../src/errors'
import { importSegmentSubscriptions } from '../../src/mapping/import-segment-subscriptions'
import { compileMappingText } from '../../src/mapping/load-mapping'

const ROOT = path.join(__dirname, '..', '..')
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'))
const base = () => readJson('mappings/default.json')
const PUBLIC_API = 'test/fixtures/segment-koala-subscriptions.public-api.json'
const TERRAFORM = 'test/fixtures/segment-koala-subscriptions.terraform.json'
const KOALA_TRACK_FIELDS = ['email', 'event', 'properties', 'sent_at', 'context', 'traits', 'device_ip', 'message_id']
const KOALA_IDENTIFY_FIELDS = ['email', 'traits', 'sent_at', 'context', 'device_ip', 'message_id']

/** A Public API response holding these subscriptions. */
const publicApi = (...subscriptions: unknown[]) => ({ data: { subscriptions } })
const notesOf = (document: unknown) => importSegmentSubscriptions(document, base()).notes.map((note) => `${note.pointer}: ${note.message}`)

describe('importing Segment\'s export of a Koala destination', () => {
  it('turns a Public API subscriptions response into a mapping file that passes check, saying what it left out', () => {
    const export_ = readJson(PUBLIC_API)
    const result = importSegmentSubscriptions(export_, base())
    expect(result).to.include({ kind: 'public-api', imported: 3, found: 4 })
    const { subscriptions, ...settings } = result.mapping as { subscriptions: any[] }
    const { subscriptions: _, ...defaults } = base()
    expect(settings).to.deep.equal(defaults)
    expect(subscriptions.map((s) => [s.name, s.subscribe, s.partnerAction, s.enabled])).to.deep.equal([
      ['Track Calls', 'type = "track"', 'track', undefined],
      ['Identify Calls', 'type = "identify"', 'identify', undefined],
      ['Signed Up (paused)', 'type = "track" and event = "Signed Up"', 'track', false]
    ])
    const { enable_batching: _b, batch_size: _s, ...trackSettings } = export_.data.subscriptions[0].settings
    expect(subscriptions[0].mapping).to.deep.equal(trackSettings)
    expect(subscriptions[1].mapping).to.deep.equal(export_.data.subscriptions[1].settings)
    expect(result.notes).to.deep.equal([
      { pointer: '/data/subscriptions/0', message: '"enable_batching" not carried over: the adapter batches on its own (per person, up to 30 per Koala request)' },
      { pointer: '/data/subscriptions/0', message: '"batch_size" not carried over: the adapter batches on its own (per person, up to 30 per Koala request)' },
      { pointer: '/data/subscriptions/3', message: 'subscription "Send to webhook" not imported: its action "send" is not one of Koala\'s (track, identify)' }
    ])
    expect(() => compileMappingText(JSON.stringify(result.mapping))).not.to.throw()
  })

  it('maps events as Segment\'s subscriptions did: the imported email field picks the person', () => {
    const compiled = compileMappingText(JSON.stringify(importSegmentSubscriptions(readJson(PUBLIC_API), base()).mapping))
    const result = compiled.map({ type: 'track', event: 'Invited', email: 'Ada@Example.com', messageId: 'm-1', timestamp: '2026-01-02T03:04:05Z' }) as any
    expect(result.outcome, JSON.stringify(result)).to.equal('send')
    expect(result.entries).to.have.length(1)
    expect(JSON.stringify(result.entries[0])).to.contain('ada@example.com')
  })

  it('reads terraform show -json: settings as a JSON string, child modules, other resources ignored, a missing action_slug inferred', () => {
    const result = importSegmentSubscriptions(readJson(TERRAFORM), base())
    expect(result).to.include({ kind: 'terraform', imported: 2, found: 2 })
    const subscriptions = (result.mapping as { subscriptions: any[] }).subscriptions
    expect(subscriptions.map((s) => [s.name, s.partnerAction, Object.keys(s.mapping)])).to.deep.equal([
      ['Track Calls', 'track', ['event', 'message_id', 'properties', 'sent_at']],
      ['Identify Calls', 'identify', ['context', 'message_id', 'sent_at', 'traits']]
    ])
    expect(result.notes).to.deep.equal([
      {
        pointer: '/values/root_module/child_modules/0/resources/0',
        message: 'subscription "Identify Calls" names no action slug: imported as identify, as its trigger takes identify calls; check it'
      }
    ])
    expect(() => compileMappingText(JSON.stringify(result.mapping))).not.to.throw()
  })

  it('drops fields our partner action lacks, fills a missing required field from the default mapping, and says so', () => {
    const notes = notesOf(
      publicApi({ name: 'T', enabled: true, trigger: 'type = "track"', actionSlug: 'track', settings: { user_id: { '@path': '$.userId' }, sent_at: { '@path': '$.timestamp' } } })
    )
    expect(notes[0]).to.match(/^\/data\/subscriptions\/0: "user_id" not carried over: our track partner action has no such field \(it has .*event.*\)$/)
    expect(notes[1]).to.equal('/data/subscriptions/0: "event" is required and was missing: taken from the default mapping')
    const result = importSegmentSubscriptions(publicApi({ name: 'T', trigger: 'type = "track"', actionSlug: 'track', settings: {} }), base())
    expect((result.mapping as any).subscriptions[0].mapping).to.deep.equal({ event: { '@path': '$.event' } })
    expect(() => compileMappingText(JSON.stringify(result.mapping))).not.to.throw()
  })

  it('skips what it cannot import, each with the reason, and never lets a settings key reach a prototype', () => {
    const result = importSegmentSubscriptions(
      publicApi(
        { name: 'Rows', trigger: 'event = "new"', actionSlug: 'track', modelId: 'model_1', settings: {} },
        { name: 'No trigger', actionSlug: 'track', settings: {} },
        { name: 'Bad settings', trigger: 'type = "track"', actionSlug: 'track', settings: '{not json' },
        { name: 'Unknown', trigger: 'type = "page"', settings: { name: { '@path': '$.name' } } },
        JSON.parse('{"name":"Proto","trigger":"type = \\"identify\\"","actionSlug":"identify","settings":{"__proto__":{"polluted":1}}}')
      ),
      base()
    )
    expect(result).to.include({ imported: 1, found: 5 })
    expect(result.notes.map((note) => note.message)).to.deep.equal([
      'subscription "Rows" not imported: it is a Reverse ETL subscription (it has a model id); the adapter maps events, not warehouse rows',
      'subscription "No trigger" not imported: it has no trigger',
      'subscription "Bad settings" not imported: its settings are not a JSON object of fields',
      'subscription "Unknown" not imported: it names no action slug, and neither its fields nor its trigger say whether it is track or identify; add "action_slug"',
      '"__proto__" not carried over: our identify partner action has no such field (it has ' + result.notes[4].message.split('(it has ')[1]
    ])
    const mapping = (result.mapping as any).subscriptions[0].mapping
    expect(Object.getPrototypeOf(mapping)).to.equal(Object.prototype)
    expect(({} as any).polluted).to.equal(undefined)
  })

  it('refuses a document that is neither kind of export', () => {
    expect(() => importSegmentSubscriptions({ subscriptions: [] }, base())).to.throw(AdapterError, /not a Segment export/)
    expect(() => importSegmentSubscriptions(base(), base())).to.throw(AdapterError, /not a Segment export/)
  })

  it('carries over every field of Segment\'s Koala Cloud presets, and the result passes check', () => {
    const result = importSegmentSubscriptions(readJson('test/fixtures/segment-koala-presets.public-api.json'), base())
    expect(result.notes).to.deep.equal([])
    const subscriptions = (result.mapping as { subscriptions: any[] }).subscriptions
    expect(Object.keys(subscriptions[0].mapping)).to.have.members(KOALA_TRACK_FIELDS)
    expect(Object.keys(subscriptions[1].mapping)).to.have.members(KOALA_IDENTIFY_FIELDS)
    expect(() => compileMappingText(JSON.stringify(result.mapping))).not.to.throw()
  })
})
