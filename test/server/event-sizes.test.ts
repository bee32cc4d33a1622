import { expect } from 'chai'
import { eventByteSizes } from '../../src/server/event-sizes'

const bytes = (text: string) => Buffer.from(text, 'utf8')
const sizeOf = (text: string) => Buffer.byteLength(text)

/** A small deterministic generator of awkward JSON values: escapes, brackets in strings, unicode, every kind of scalar. */
function randomValue(next: () => number, depth = 0): unknown {
  const strings = ['', 'a,b', '}]{["', 'quote " inside', 'back\\slash\\', '\\"', 'é😀', '\u0000\u001f', 'batch', ':']
  const pick = next() % (depth > 3 ? 4 : 7)
  switch (pick) {
    case 0: return strings[next() % strings.length]
    case 1: return (next() % 2000) - 1000 + (next() % 3 === 0 ? 0.25 : 0)
    case 2: return [true, false, null][next() % 3]
    case 3: return next() % 2 === 0 ? {} : []
    case 4:
    case 5: {
      const record: Record<string, unknown> = {}
      for (let i = next() % 5; i > 0; i--) record[strings[next() % strings.length] + i] = randomValue(next, depth + 1)
      return record
    }
    default: return Array.from({ length: next() % 4 }, () => randomValue(next, depth + 1))
  }
}

function generator(seed: number): () => number {
  let state = seed
  return () => (state = (state * 1103515245 + 12345) % 2147483648)
}

describe('eventByteSizes', () => {
  it('measures each element of a top-level array, in bytes', () => {
    const events = [{ type: 'track', event: 'é' }, { type: 'identify', traits: { name: 'x", {[' } }, 'not an event', 42, null, []]
    const texts = events.map((event) => JSON.stringify(event))
    expect(eventByteSizes(bytes(`[${texts.join(',')}]`), 'body')).to.deep.equal(texts.map(sizeOf))
  })

  it('measures elements as sent, whitespace inside them included, not around them', () => {
    const texts = ['{\n    "type": "track",\n    "event": "a"\n  }', '"x"', '1.5e3', 'true', '[ 1 , 2 ]']
    const body = `\n [\n  ${texts.join(' ,\n  ')}\n ]\n`
    expect(eventByteSizes(bytes(body), 'body')).to.deep.equal(texts.map(sizeOf))
    expect(eventByteSizes(bytes(' [ ] '), 'body')).to.deep.equal([])
  })

  it('measures a single-event body without the whitespace around it', () => {
    const text = '{"type":"track","event":"Signed Up","properties":{"note":"\\"}]"}}'
    expect(eventByteSizes(bytes(`\r\n\t ${text} \n`), 'body')).to.deep.equal([sizeOf(text)])
  })

  it('finds the "batch" array of an envelope among other keys, and not one nested deeper', () => {
    const texts = ['{"type":"track","event":"a"}', '{"type":"page","context":{"batch":[1,2,3]}}']
    const body = `{"writeKey":"k","context":{"batch":[{"a":1}]},"batch" : [${texts.join(', ')}],"sentAt":"2026-11-22T00:00:00Z"}`
    expect(eventByteSizes(bytes(body), 'batch')).to.deep.equal(texts.map(sizeOf))
  })

  it('takes the last "batch" key, as JSON.parse does, and reads escaped key names', () => {
    expect(eventByteSizes(bytes('{"batch":[{"a":1}],"b\\u0061tch":[{"ab":12},[]]}'), 'batch')).to.deep.equal([9, 2])
    expect(eventByteSizes(bytes('{"batch":[{"a":1}],"batch":"no longer an array"}'), 'batch')).to.equal(undefined)
    expect(eventByteSizes(bytes('{"events":[{"a":1}]}'), 'batch')).to.equal(undefined)
    expect(eventByteSizes(bytes('[{"a":1}]'), 'batch')).to.equal(undefined)
  })

  it('agrees with JSON.stringify on 2000 generated arrays, compact and indented', () => {
    const next = generator(7)
    for (let round = 0; round < 2000; round++) {
      const values = Array.from({ length: next() % 6 }, () => randomValue(next))
      const indent = round % 2 === 0 ? undefined : 1 + (next() % 3)
      const texts = values.map((value) => JSON.stringify(value, null, indent))
      const body = indent === undefined ? `[${texts.join(',')}]` : `[\n${texts.join(',\n')}\n]`
      expect(JSON.parse(body)).to.deep.equal(values)
      expect(eventByteSizes(bytes(body), 'body'), body).to.deep.equal(texts.map(sizeOf))
      expect(eventByteSizes(bytes(`{"sentAt":1,"batch":${body},"x":{}}`), 'batch'), body).to.deep.equal(texts.map(sizeOf))
    }
  })
})
