/**
 * Each deliberate difference from Segment's transform(), shown with both results, so the
 * test proves the difference is real; and a check that DELIBERATE_DIFFERENCES lists
 * exactly the differences tested here.
 */
import { expect } from 'chai'
import { MappingError } from '../../src/errors'
import { compileMappingKit, DELIBERATE_DIFFERENCES, MappingEvalError } from '../../src/mapping/kit/compile-mapping-kit'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transform } = require('@segment/actions-core') as { transform: (mapping: unknown, data: unknown) => unknown }

function segment(mapping: Record<string, unknown>, event: unknown): Record<string, unknown> {
  return transform(structuredClone(mapping), event) as Record<string, unknown>
}

function ours(mapping: Record<string, unknown>, event: unknown): Record<string, unknown> {
  return compileMappingKit(mapping, '/m')(event)
}

/** An object nested `levels` deep: { a: { a: ... { leaf: 1 } } }. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 }
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

/** How many objects deep `value` goes along key "a", counted without recursion. */
function depthAlongA(value: unknown): number {
  let depth = 0
  let node = value as Record<string, unknown> | undefined
  while (node !== undefined && typeof node === 'object') {
    depth++
    node = node.a as Record<string, unknown> | undefined
  }
  return depth
}

const tested = new Set<string>()

/** Declares the test of one deliberate difference. */
function difference(id: string, title: string, body: (this: Mocha.Context) => void): void {
  tested.add(id)
  it(`${id}: ${title}`, body)
}

describe('mapping-kit deliberate differences from Segment', () => {
  difference('if-falsy-else', '@if returns a falsy "else"; Segment returns nothing', () => {
    for (const otherwise of [false, 0, '', null]) {
      const mapping = { x: { '@if': { exists: { '@path': '$.missing' }, then: 'yes', else: otherwise } } }
      expect(segment(mapping, {})).to.deep.equal({})
      expect(ours(mapping, {})).to.deep.equal({ x: otherwise })
    }
  })

  difference('coalesce', 'we have @coalesce; Segment rejects it', () => {
    const mapping = { email: { '@coalesce': [{ '@path': '$.traits.email' }, { '@path': '$.context.traits.email' }] } }
    const event = { traits: { email: '  ' }, context: { traits: { email: 'a@b.co' } } }
    expect(() => segment(mapping, event)).to.throw(/@coalesce/)
    expect(ours(mapping, event)).to.deep.equal({ email: 'a@b.co' })
  })

  difference('proto-keys', 'an own "__proto__" key in data stays a key; Segment makes it the prototype', () => {
    const event = JSON.parse('{"o": {"__proto__": {"admin": true}, "k": 1}, "raw": "{\\"__proto__\\": {\\"admin\\": true}}"}')
    for (const mapping of [{ x: { '@path': '$.o' } }, { x: { '@json': { mode: 'decode', value: { '@path': '$.raw' } } } }]) {
      const theirs = segment(mapping, event).x as Record<string, unknown>
      expect(theirs.admin, JSON.stringify(mapping)).to.equal(true)
      expect(Object.getPrototypeOf(theirs)).not.to.equal(Object.prototype)

      const mine = ours(mapping, event).x as Record<string, unknown>
      expect(Object.getPrototypeOf(mine)).to.equal(Object.prototype)
      expect(mine.admin).to.equal(undefined)
      expect(Object.keys(mine)).to.include('__proto__')
    }
    // @flatten with omitArrays: Segment makes an array the prototype of the flattened object.
    const flatten = { x: { '@flatten': { separator: '.', value: { '@path': '$.f' }, omitArrays: true } } }
    const flatEvent = JSON.parse('{"f": {"__proto__": ["admin"]}}')
    expect(Array.isArray(Object.getPrototypeOf(segment(flatten, flatEvent).x))).to.equal(true)
    const flat = ours(flatten, flatEvent).x as Record<string, unknown>
    expect(Object.getPrototypeOf(flat)).to.equal(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(flat, '__proto__')?.value).to.deep.equal(['admin'])
    // @merge: Segment's Object.assign swallows the key (it only survives as a prototype in between).
    const merge = { x: { '@merge': { direction: 'right', objects: [{ '@path': '$.o' }, { b: 2 }] } } }
    expect(segment(merge, event)).to.deep.equal({ x: { k: 1, b: 2 } })
    const merged = ours(merge, event).x as Record<string, unknown>
    expect(Object.keys(merged)).to.deep.equal(['__proto__', 'k', 'b'])
    expect(Object.getOwnPropertyDescriptor(merged, '__proto__')?.value).to.deep.equal({ admin: true })
  })

  difference('prototype-reads', 'paths never read the prototype chain; Segment returns built-in functions', () => {
    const event = { name: 'ada', p: 'constructor' }
    const method = { x: { '@path': '$.name.toUpperCase' } }
    expect(segment(method, event).x).to.equal(String.prototype.toUpperCase)
    expect(ours(method, event)).to.deep.equal({})

    const template = { x: { '@template': '{{name.toString}}' } }
    expect(segment(template, event).x).to.match(/function toString\(\) \{ \[native code\] \}/)
    expect(ours(template, event)).to.deep.equal({ x: '' })

    const fromData = { x: { '@path': { '@path': '$.p' } } }
    expect(segment(fromData, event).x).to.equal(Object)
    expect(ours(fromData, event)).to.deep.equal({})

    const written = { x: { '@path': '$.name.constructor' } }
    expect(segment(written, event).x).to.equal(String)
    expect(() => ours(written, event)).to.throw(MappingError, /uses the key "constructor"/)
  })

  difference('template-no-rescan', 'text put in by {{{ }}} is not expanded again; Segment expands it', () => {
    const mapping = { x: { '@template': 'Comment: {{{properties.comment}}}' } }
    const event = { properties: { comment: 'see {{traits.ssn}}' }, traits: { ssn: '123-45-6789' } }
    expect(segment(mapping, event)).to.deep.equal({ x: 'Comment: see 123-45-6789' })
    expect(ours(mapping, event)).to.deep.equal({ x: 'Comment: see {{traits.ssn}}' })
  })

  difference('flatten-separator-directive', 'a directive separator works everywhere; Segment validates it away outside arrays', () => {
    const flatten = { '@flatten': { separator: { '@path': '$.sep' }, value: { a: { b: 1 } } } }
    const event = { sep: '_' }
    expect(() => segment({ x: flatten }, event)).to.throw(/separator should be a string but it is a directive/)
    expect(segment({ x: [flatten] }, event)).to.deep.equal({ x: [{ a_b: 1 }] })
    expect(ours({ x: flatten }, event)).to.deep.equal({ x: { a_b: 1 } })
    expect(ours({ x: [flatten] }, event)).to.deep.equal({ x: [{ a_b: 1 }] })
    // Both fail the event when the separator is not a string.
    expect(() => segment({ x: [flatten] }, { sep: 1 })).to.throw(/requires a string separator/)
    expect(() => ours({ x: [flatten] }, { sep: 1 })).to.throw(MappingEvalError, /\/m\/x\/0\/@flatten: @flatten requires a string separator/)
  })

  difference('strict-compile', 'mappings Segment silently misreads are compile errors', () => {
    const misread: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ x: { '@if': { exists: { '@path': '$.a' }, thn: 'yes' } } }, {}],
      [{ x: { '@json': { mode: 'ENCODE', value: { '@path': '$.a' } } } }, {}],
      [{ x: { '@merge': { direction: 'LEFT', objects: [{ k: 1 }, { k: 2 }] } } }, { x: { k: 2 } }],
      [{ x: { '@replace': { pattern: 'a', value: 'abc', replacement2: 'z' } } }, { x: 'bc' }],
      [{ x: { '@arrayPath': ['$.list', {}] } }, { x: [1, 2] }],
      [{ x: { '@case': { operator: 'lower' } } }, {}]
    ]
    for (const [mapping, segmentResult] of misread) {
      expect(segment(mapping, { a: 1, list: [1, 2] }), JSON.stringify(mapping)).to.deep.equal(segmentResult)
      expect(() => compileMappingKit(mapping, '/m'), JSON.stringify(mapping)).to.throw(MappingError)
    }
    // @liquid: Segment skips an unknown filter, and a disabled one fails only on events that reach it.
    expect(segment({ x: { '@liquid': '{{ a | upcaes }}' } }, { a: 'b' })).to.deep.equal({ x: 'b' })
    expect(() => compileMappingKit({ x: { '@liquid': '{{ a | upcaes }}' } }, '/m')).to.throw(MappingError, /no filter "upcaes" \(did you mean upcase\?\)/)
    const sometimes = { x: { '@liquid': '{% if a == "s" %}{{ list | sort | join }}{% else %}{{ a }}{% endif %}' } }
    expect(segment(sometimes, { a: 'b', list: [2, 1] })).to.deep.equal({ x: 'b' })
    expect(() => segment(sometimes, { a: 's', list: [2, 1] })).to.throw(/filter "sort" is disabled/)
    expect(() => compileMappingKit(sometimes, '/m')).to.throw(MappingError, /\/m\/x\/@liquid: @liquid filter "sort" is disabled in Segment/)

    const alwaysFails = { x: { '@if': { exists: false, then: 1 } } }
    expect(() => segment(alwaysFails, {})).to.throw(/@if requires an "exists" key or a "blank" key/)
    expect(() => compileMappingKit(alwaysFails, '/m')).to.throw(MappingError, /\/m\/x\/@if\/exists/)
  })

  difference('deep-nesting', 'data nested 10 000 levels deep maps; Segment overflows the stack', function () {
    this.timeout(10_000)
    const event = { d: nested(10_000) }
    const path = { x: { '@path': '$.d' } }
    expect(() => segment(path, event)).to.throw(RangeError)
    const copied = ours(path, event).x
    expect(copied).not.to.equal(event.d)
    expect(depthAlongA(copied)).to.equal(10_001)

    const flatten = { x: { '@flatten': { separator: '.', value: { '@path': '$.d' } } } }
    expect(() => segment(flatten, event)).to.throw(RangeError)
    const flat = ours(flatten, event).x as Record<string, unknown>
    expect(Object.values(flat)).to.deep.equal([1])
    expect(Object.keys(flat)[0]).to.equal(`${'a.'.repeat(10_000)}leaf`)

    const exclude = { x: { '@excludeWhenNull': { '@path': '$.d' } } }
    expect(() => segment(exclude, event)).to.throw(RangeError)
    expect(depthAlongA(ours(exclude, event).x)).to.equal(10_001)
  })

  difference('liquid-counters', '{% increment %} counts within one @liquid; Segment writes the counter into the event', () => {
    const mapping = { first: { '@liquid': '{% increment n %}{% increment n %}' }, later: { '@path': '$.n' }, again: { '@liquid': '{% increment n %}' } }
    const theirEvent = { a: 1 }
    expect(segment(mapping, theirEvent)).to.deep.equal({ first: '01', later: 2, again: '2' })
    expect(theirEvent).to.deep.equal({ a: 1, n: 3 })

    const ourEvent = { a: 1 }
    expect(ours(mapping, ourEvent)).to.deep.equal({ first: '01', again: '0' })
    expect(ourEvent).to.deep.equal({ a: 1 })
    // Within one template they count as in Segment, from a number the event holds too.
    const within = { x: { '@liquid': '{% decrement k %}{% decrement k %}|{{ k }}|{% increment n %}{{ n }}' } }
    expect(ours(within, { n: 5 })).to.deep.equal(segment(within, { n: 5 }))
  })

  difference('liquid-utc-dates', '@liquid date filters work in UTC in any zone; Segment uses the process\'s zone', () => {
    const mapping = {
      local: { '@liquid': '{{ properties.at | date: "%Y-%m-%d %H:%M %z" }}' },
      zoned: { '@liquid': '{{ properties.zoned | date_to_xmlschema }}' },
      unix: { '@liquid': '{{ properties.unix | date: "%H:%M" }}' }
    }
    const event = { properties: { at: '2026-01-01 23:30', zoned: '2026-01-01T10:00:00+05:00', unix: 1767310200 } }
    const expected = { local: '2026-01-01 23:30 +0000', zoned: '2026-01-01T05:00:00+00:00', unix: '23:30' }
    const zone = process.env.TZ
    try {
      process.env.TZ = 'UTC'
      expect(segment(mapping, event)).to.deep.equal(expected)
      expect(ours(mapping, event)).to.deep.equal(expected)
      process.env.TZ = 'Asia/Tokyo'
      expect(segment(mapping, event)).to.deep.equal({ local: '2026-01-01 23:30 +0900', zoned: '2026-01-01T14:00:00+09:00', unix: '08:30' })
      expect(ours(mapping, event)).to.deep.equal(expected)
      process.env.TZ = 'America/New_York'
      expect(ours(mapping, event)).to.deep.equal(expected)
    } finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
  })

  it('DELIBERATE_DIFFERENCES lists exactly the differences tested here, each with a summary', () => {
    const listed = DELIBERATE_DIFFERENCES.map((entry) => entry.id)
    expect(new Set(listed).size, 'duplicate ids').to.equal(listed.length)
    expect([...listed].sort()).to.deep.equal([...tested].sort())
    for (const entry of DELIBERATE_DIFFERENCES) expect(entry.summary.length, entry.id).to.be.greaterThan(20)
  })
})
