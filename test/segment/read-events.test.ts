import { expect } from 'chai'
import { readEvents } from '../../src/segment/read-events'
import { validateEvent } from '../../src/segment/validate-event'

describe('readEvents', () => {
  it('reads one JSON object as one event', () => {
    const items = readEvents('{"type":"track","event":"A"}', 'f.json')
    expect(items).to.deep.equal([{ where: 'f.json', value: { type: 'track', event: 'A' } }])
  })

  it('reads a JSON array element by element', () => {
    const items = readEvents('[{"type":"track","event":"A"}, 5]', 'f.json')
    expect(items.map((item) => item.value)).to.deep.equal([{ type: 'track', event: 'A' }, 5])
    expect(items[1].where).to.equal('f.json[1]')
  })

  it('unwraps a /v1/batch envelope, merging its context and integrations under each event', () => {
    const envelope = {
      batch: [{ type: 'track', event: 'A', context: { ip: '1.2.3.4' } }, { type: 'identify' }],
      context: { library: { name: 'x' }, ip: '9.9.9.9' },
      integrations: { All: true },
      writeKey: 'wk'
    }
    const values = readEvents(JSON.stringify(envelope)).map((item) => item.value)
    expect(values).to.deep.equal([
      { type: 'track', event: 'A', context: { library: { name: 'x' }, ip: '1.2.3.4' }, integrations: { All: true } },
      { type: 'identify', context: { library: { name: 'x' }, ip: '9.9.9.9' }, integrations: { All: true } }
    ])
  })

  it('reads NDJSON, reporting a malformed line by number and going on', () => {
    const items = readEvents('{"type":"track","event":"A"}\n{oops\n\n{"type":"identify"}\n', 'e.ndjson')
    expect(items).to.have.length(3)
    expect(items[1].where).to.equal('e.ndjson:2')
    expect(items[1].error).to.match(/^malformed JSON/)
    expect(items[2]).to.deep.equal({ where: 'e.ndjson:4', value: { type: 'identify' } })
  })

  it('returns nothing for empty input', () => {
    expect(readEvents('  \n ')).to.deep.equal([])
  })
})

describe('validateEvent', () => {
  it('accepts each Spec call and keeps unknown fields', () => {
    for (const event of [
      { type: 'track', event: 'A', custom: { x: 1 } },
      { type: 'identify', traits: { a: 1 } },
      { type: 'page', name: null },
      { type: 'screen', name: 'Home' },
      { type: 'group', groupId: 'g1' },
      { type: 'alias', previousId: 'p' }
    ]) {
      const result = validateEvent(event)
      expect(result.ok, JSON.stringify(event)).to.equal(true)
      if (result.ok) expect(result.event).to.deep.include(event)
    }
  })

  it('drops an invalid event with the zod path as a JSON pointer', () => {
    expect(validateEvent({ type: 'track', properties: [] })).to.deep.equal({
      ok: false,
      reason: 'invalid_event',
      detail: '/event: Invalid input: expected string, received undefined; /properties: expected an object'
    })
    expect(validateEvent({ type: 'group' })).to.include({ reason: 'invalid_event' })
    expect(validateEvent({ event: 'x' })).to.deep.include({ reason: 'invalid_event' })
  })

  it('calls a type outside the Spec unsupported_type', () => {
    expect(validateEvent({ type: 'delete' })).to.deep.include({ ok: false, reason: 'unsupported_type' })
  })

  it('drops non-objects without throwing', () => {
    for (const value of [null, 5, 'x', [], true]) {
      expect(validateEvent(value)).to.deep.include({ ok: false, reason: 'invalid_event' })
    }
  })

  it('drops 10 000-deep nesting with the pointer where it gets too deep, without a stack overflow', () => {
    let text = ''
    for (let i = 0; i < 10_000; i++) text += '{"a":'
    text += '1' + '}'.repeat(10_000)
    const result = validateEvent({ type: 'track', event: 'A', properties: JSON.parse(text) })
    expect(result.ok).to.equal(false)
    if (!result.ok) {
      expect(result.reason).to.equal('invalid_event')
      expect(result.detail).to.match(/^\/properties\/a\/a\/a.*nested deeper than 64 levels$/)
    }
  })
})
