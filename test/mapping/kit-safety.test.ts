/**
 * Hostile event data: "__proto__" and "constructor" keys, deep nesting, cycles, values whose
 * conversion to text fails. Nothing may pollute a prototype, overflow the stack, hang, or
 * throw anything but MappingEvalError.
 */
import { expect } from 'chai'
import { compileMappingKit, MappingEvalError } from '../../src/mapping/kit/compile-mapping-kit'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transform } = require('@segment/actions-core') as { transform: (mapping: unknown, data: unknown) => unknown }

/** Every object reachable from `value`, without recursion. */
function objectsIn(value: unknown): object[] {
  const found: object[] = []
  const stack = [value]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node !== 'object' || node === null) continue
    found.push(node)
    for (const key of Object.keys(node)) stack.push((node as Record<string, unknown>)[key])
  }
  return found
}

function snapshot(target: object): string {
  return JSON.stringify(Object.getOwnPropertyNames(target).sort()) + String(Object.getPrototypeOf(target))
}

const hostileEvent = JSON.parse(`{
  "__proto__": { "polluted": "top" },
  "constructor": { "prototype": { "polluted": "ctor" } },
  "o": { "__proto__": { "polluted": "nested", "isAdmin": true }, "constructor": { "prototype": { "polluted": 1 } }, "k": 1 },
  "list": [ { "__proto__": { "polluted": "item" } }, { "id": 2 } ],
  "raw": "{\\"__proto__\\": {\\"polluted\\": \\"json\\"}, \\"a\\": {\\"__proto__\\": null}}",
  "nulls": { "__proto__": null, "a": null }
}`)

const everyDirective = {
  whole: { '@path': '$.' },
  o: { '@path': '$.o' },
  list: { '@arrayPath': ['$.list', { item: { '@path': '$.' }, id: { '@path': '$.id' } }] },
  listRoot: { '@arrayPath': ['$.o'] },
  merged: { '@merge': { direction: 'right', objects: [{ '@path': '$.o' }, { '@path': '$.list[0]' }, { '@path': '$.' }] } },
  mergedLeft: { '@merge': { direction: 'left', objects: [{ '@path': '$.o' }, { '@path': '$.list[0]' }] } },
  flat: { '@flatten': { separator: '.', value: { '@path': '$.' } } },
  flatOmit: { '@flatten': { separator: '.', value: { '@path': '$.list' }, omitArrays: true } },
  decoded: { '@json': { mode: 'decode', value: { '@path': '$.raw' } } },
  encoded: { '@json': { mode: 'encode', value: { '@path': '$.o' } } },
  noNulls: { '@excludeWhenNull': { '@path': '$.nulls' } },
  transformed: { '@transform': { apply: { '@path': '$.o' }, mapping: { k: { '@path': '$.k' }, all: { '@path': '$.' } } } },
  text: { '@template': '{{o.k}} {{{o}}}' },
  liquid: { '@liquid': '{{ o.k }}|{{ o.isAdmin }}|{{ polluted }}|{{ list[0].polluted }}|{{ o.constructor.prototype.polluted }}' },
  chosen: { '@coalesce': [{ '@path': '$.missing' }, { '@path': '$.o' }] },
  constructor: { '@path': '$.o.k' },
  prototype: { prototype: { '@path': '$.o.k' } }
}

describe('mapping-kit safety', () => {
  it('leaves Object.prototype and Array.prototype untouched and results with their normal prototypes', () => {
    const objectBefore = snapshot(Object.prototype)
    const arrayBefore = snapshot(Array.prototype)
    const result = compileMappingKit(everyDirective, '/m')(hostileEvent)

    expect(snapshot(Object.prototype)).to.equal(objectBefore)
    expect(snapshot(Array.prototype)).to.equal(arrayBefore)
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined)
    expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined)
    for (const node of objectsIn(result)) {
      expect(Object.getPrototypeOf(node)).to.equal(Array.isArray(node) ? Array.prototype : Object.prototype)
      expect((node as Record<string, unknown>).isAdmin, 'isAdmin must not be inherited').to.satisfy((v: unknown) => v === undefined || Object.hasOwn(node, 'isAdmin'))
    }
    // The hostile keys survive as plain data.
    expect(Object.getOwnPropertyDescriptor(result.o, '__proto__')?.value).to.deep.equal({ polluted: 'nested', isAdmin: true })
    expect(result.constructor).to.equal(1)
    expect(result.prototype).to.deep.equal({ prototype: 1 })
    expect(result.text).to.equal('1 [object Object]')
    expect(result.liquid).to.equal('1||||1')
  })

  it('does not modify the event, and results share no objects with it', () => {
    const before = JSON.stringify(hostileEvent)
    const result = compileMappingKit(everyDirective, '/m')(hostileEvent)
    expect(JSON.stringify(hostileEvent)).to.equal(before)
    const eventObjects = new Set(objectsIn(hostileEvent))
    for (const node of objectsIn(result)) expect(eventObjects.has(node)).to.equal(false)
  })

  it('maps data nested 10 000 levels deep through every directive without a RangeError', function () {
    this.timeout(10_000)
    let deep: Record<string, unknown> = { leaf: null }
    let chain: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 10_000; i++) {
      deep = { a: deep, n: null }
      chain = { a: chain }
    }
    const event = { d: deep, chain, raw: `${'['.repeat(10_000)}${']'.repeat(10_000)}` }
    const mapping = {
      path: { '@path': '$.d' },
      list: { '@arrayPath': ['$.d', { inner: { '@path': '$.a' } }] },
      merged: { '@merge': { direction: 'left', objects: [{ '@path': '$.d' }] } },
      flat: { '@flatten': { separator: '/', value: { '@path': '$.chain' } } },
      clean: { '@excludeWhenNull': { '@path': '$.d' } },
      chosen: { '@coalesce': [{ '@path': '$.d' }] },
      transformed: { '@transform': { apply: { '@path': '$.d' }, mapping: { '@path': '$.a' } } },
      chosenIf: { '@if': { exists: { '@path': '$.d' }, then: { '@path': '$.d' } } },
      decoded: { '@json': { mode: 'decode', value: { '@path': '$.raw' } } }
    }
    const result = compileMappingKit(mapping, '/m')(event)
    expect(Object.keys(result)).to.deep.equal(Object.keys(mapping))
    expect(Object.keys(result.flat as object)).to.deep.equal([`${'a/'.repeat(10_000)}leaf`])
    expect(Object.keys(result.clean as object)).to.deep.equal(['a'])
  })

  it('turns a stack overflow in @json encode into a MappingEvalError', () => {
    let deep: unknown = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    const compiled = compileMappingKit({ x: { '@json': { mode: 'encode', value: { '@path': '$.d' } } } }, '/m')
    expect(() => compiled({ d: deep })).to.throw(MappingEvalError, /^\/m\/x\/@json: @json could not encode the value/)
  })

  it('stops on cyclic data with a MappingEvalError instead of hanging', function () {
    this.timeout(10_000)
    const cyclic: Record<string, unknown> = { k: 1 }
    cyclic.self = cyclic
    const compiled = compileMappingKit({ x: { '@path': '$.c' } }, '/m')
    expect(() => compiled({ c: cyclic })).to.throw(MappingEvalError, /^\/m\/x: mapping failed: data nested deeper than 100000 levels/)
  })

  it('fails like Segment, with MappingEvalError, when data cannot be turned into text', () => {
    const event = JSON.parse('{"o": {"toString": 1}}')
    const template = { x: { '@template': 'v={{o}}' } }
    expect(() => transform(template, event)).to.throw(TypeError)
    expect(() => compileMappingKit(template, '/m')(event)).to.throw(MappingEvalError, /^\/m\/x\/@template: @template could not turn a value into text/)

    const blank = { x: { '@if': { blank: { '@path': '$.o' }, then: 1 } } }
    expect(() => transform(blank, event)).to.throw(TypeError)
    expect(() => compileMappingKit(blank, '/m')(event)).to.throw(MappingEvalError, /^\/m\/x\/@if: @if could not compare/)
  })

  it('keeps @liquid tags that write (assign, capture, increment, decrement) off every prototype and out of the event', () => {
    const objectBefore = snapshot(Object.prototype)
    const template =
      '{% increment __proto__ %}{% increment constructor %}{% decrement toString %}{% assign __proto__ = o %}{% capture constructor %}x{% endcapture %}' +
      '[{{ polluted }}|{{ o.polluted }}|{{ o.__proto__.polluted }}|{{ constructor }}|{{ toString }}|{{ o.constructor }}|{{ isAdmin }}]'
    const mapping = { a: { '@liquid': template }, items: { '@arrayPath': ['$.list', { t: { '@liquid': '{% increment __proto__ %}{% assign __proto__ = id %}{{ polluted }}' } }] } }
    const event = JSON.parse('{"__proto__": {"polluted": "top"}, "o": {"__proto__": {"polluted": "nested", "isAdmin": true}, "k": 1}, "list": [{"__proto__": {"polluted": 1}}, {"id": 2}]}')
    const before = JSON.stringify(event)
    const theirs = transform(mapping, structuredClone(event))
    const result = compileMappingKit(mapping, '/m')(event)
    expect(result).to.deep.equal(theirs)
    expect(result.a).to.equal('00-1[||nested|x|-1||]')
    expect(JSON.stringify(event)).to.equal(before)
    expect(Object.getPrototypeOf(event)).to.equal(Object.prototype)
    expect(snapshot(Object.prototype)).to.equal(objectBefore)
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined)
  })

  it('fails an @liquid render over Segment\'s memory budget with a MappingEvalError, as Segment fails it', () => {
    const doubling = '{% assign s = s | append: s %}'
    const mapping = { x: { '@liquid': `{% assign s = big | append: big %}${doubling.repeat(4)}{{ s | size }}` } }
    const event = { big: 'x'.repeat(5_000_000) }
    expect(() => transform(mapping, event)).to.throw(/memory alloc limit exceeded/)
    expect(() => compileMappingKit(mapping, '/m')(event)).to.throw(MappingEvalError, /^\/m\/x\/@liquid: @liquid could not render: memory alloc limit exceeded/)
    expect(compileMappingKit(mapping, '/m')({ big: 'x'.repeat(1000) })).to.deep.equal({ x: '32000' })
  })

  it('reads paths taken from event data without reaching prototypes', () => {
    const compiled = compileMappingKit({ x: { '@path': { '@path': '$.p' } }, t: { '@template': { '@path': '$.tpl' } } }, '/m')
    for (const p of ['__proto__', 'constructor', 'a.constructor.prototype', "a['__proto__']", 'a.toString']) {
      expect(compiled({ p, tpl: `{{${p}}}|{{{${p}}}}`, a: {} }), p).to.deep.equal({ t: '|' })
    }
  })
})
