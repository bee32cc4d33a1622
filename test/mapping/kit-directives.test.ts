/**
 * One block per directive, with the expected value written out. Unless a test says
 * otherwise, `run` also checks that Segment's transform() returns the same thing.
 */
import { expect } from 'chai'
import { compileMappingKit, compileValue, MappingEvalError } from '../../src/mapping/kit/compile-mapping-kit'
import { compilePath } from '../../src/mapping/kit/compile-path'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transform } = require('@segment/actions-core') as { transform: (mapping: unknown, data: unknown) => unknown }

/** Our result for `mapping` on `event`, after checking Segment's transform() agrees. */
function run(mapping: Record<string, unknown>, event: Record<string, unknown>): Record<string, unknown> {
  const ours = compileMappingKit(mapping, '/m')(event)
  expect(ours, 'Segment disagrees').to.deep.equal(transform(structuredClone(mapping), event))
  return ours
}

/** Our value for one directive (as field "x"), checked against Segment. */
function value(directive: unknown, event: Record<string, unknown>): unknown {
  return run({ x: directive }, event).x
}

/** Our MappingEvalError for `mapping`, after checking Segment throws too. */
function evalError(mapping: Record<string, unknown>, event: unknown): MappingEvalError {
  expect(() => transform(structuredClone(mapping), event), 'Segment should throw').to.throw()
  const compiled = compileMappingKit(mapping, '/m')
  try {
    compiled(event)
  } catch (error) {
    expect(error).to.be.instanceOf(MappingEvalError)
    return error as MappingEvalError
  }
  throw new Error('expected a MappingEvalError')
}

const event = {
  type: 'track',
  event: 'Signed Up',
  userId: 'u1',
  zero: 0,
  empty: '',
  nothing: null,
  no: false,
  traits: { email: 'Ada@Example.COM', name: 'Ada Lovelace', age: 36, tags: ['a', 'b'] },
  properties: { plan: 'pro', items: [{ id: 'i1', price: 10 }, { id: 'i2', price: 20 }, { price: 30 }], 'a.b': 'dotted', a: { b: 'nested' } },
  $: { a: 'dollar' }
}

describe('mapping-kit directives', () => {
  describe('@path', () => {
    it('reads nested keys, array indices and quoted keys', () => {
      expect(value({ '@path': '$.traits.email' }, event)).to.equal('Ada@Example.COM')
      expect(value({ '@path': 'properties.items[1].id' }, event)).to.equal('i2')
      expect(value({ '@path': '$.properties.items.0.price' }, event)).to.equal(10)
      expect(value({ '@path': "$.traits['name']" }, event)).to.equal('Ada Lovelace')
      expect(value({ '@path': '$.traits.tags.length' }, event)).to.equal(2)
      expect(value({ '@path': '$.event.length' }, event)).to.equal(9)
    })

    it("reads a['b.c'] as a → b → c, like Segment's get()", () => {
      expect(value({ '@path': "$.properties['a.b']" }, event)).to.equal('nested')
    })

    it('returns a falsy value met on the way instead of undefined', () => {
      expect(run({ a: { '@path': '$.zero.x' }, b: { '@path': '$.empty.x.y' }, c: { '@path': '$.nothing.x' }, d: { '@path': '$.no.x' } }, event)).to.deep.equal({
        a: 0,
        b: '',
        c: null,
        d: false
      })
    })

    it('strips only the first "$." (anywhere), so "$" alone is a key and "$." is the whole event', () => {
      expect(value({ '@path': '$' }, event)).to.deep.equal({ a: 'dollar' })
      expect(value({ '@path': '$.$.a' }, event)).to.equal('dollar')
      expect(value({ '@path': 'traits.$.email' }, event)).to.equal('Ada@Example.COM')
      expect(value({ '@path': '$.' }, event)).to.deep.equal(event)
      expect(value({ '@path': '' }, event)).to.deep.equal(event)
    })

    it('leaves a missing path out of the result', () => {
      expect(run({ x: { '@path': '$.traits.missing.deeper' }, y: 1 }, event)).to.deep.equal({ y: 1 })
    })

    it('copies objects it returns, dropping undefined keys (removeUndefined)', () => {
      const data = { o: { a: 1, u: undefined, inner: { v: undefined, w: 2 }, list: [undefined, 1] } }
      const result = value({ '@path': '$.o' }, data) as Record<string, unknown>
      expect(result).to.deep.equal({ a: 1, inner: { w: 2 }, list: [undefined, 1] })
      expect(result).not.to.equal(data.o)
      expect(result.inner).not.to.equal(data.o.inner)
    })

    it('takes the path from a directive, failing when it yields a non-string', () => {
      expect(value({ '@path': { '@path': '$.which' } }, { which: '$.a.b', a: { b: 7 } })).to.equal(7)
      expect(value({ '@path': { '@template': 'traits.{{field}}' } }, { ...event, field: 'name' })).to.equal('Ada Lovelace')
      const error = evalError({ x: { '@path': { '@path': '$.which' } } }, { which: 5 })
      expect(error.pointer).to.equal('/m/x/@path')
      expect(error.message).to.match(/@path: expected string, got number/)
    })

    it('compilePath() reads like @path', () => {
      const read = compilePath('$.traits.email', '/p')
      expect(read(event)).to.equal('Ada@Example.COM')
      expect(compilePath("properties.items[0].id", '/p')(event)).to.equal('i1')
      expect(compilePath('$.zero.x', '/p')(event)).to.equal(0)
    })

    it('shares what it reads from a JSON payload (jsonPayload), and copies it otherwise', () => {
      const json = JSON.parse('{"properties": {"plan": "team", "tags": ["a"]}, "items": [{"p": {"x": 1}}]}')
      const mapping = {
        properties: { '@path': '$.properties' },
        nested: { copy: { '@path': '$.properties.tags' } },
        // An @arrayPath item and an @transform result are payloads the directive makes: they are not known to be JSON.
        items: { '@arrayPath': ['$.items', { p: { '@path': '$.p' } }] },
        transformed: { '@transform': { apply: { q: { '@path': '$.properties' } }, mapping: { q: { '@path': '$.q' } } } }
      }
      const shared = compileMappingKit(mapping, '/m', { jsonPayload: true })(json)
      const copied = compileMappingKit(mapping, '/m')(json)
      expect(shared).to.deep.equal(copied)
      expect(shared.properties).to.equal(json.properties)
      expect((shared.nested as { copy: unknown }).copy).to.equal(json.properties.tags)
      expect((shared.items as Array<{ p: unknown }>)[0].p).to.not.equal(json.items[0].p)
      expect((shared.transformed as { q: unknown }).q).to.not.equal(json.properties)
      expect(copied.properties).to.not.equal(json.properties)
      expect((copied.nested as { copy: unknown }).copy).to.not.equal(json.properties.tags)
    })
  })

  describe('@template', () => {
    it('renders {{ }} and {{{ }}} placeholders, missing and null values as ""', () => {
      expect(value({ '@template': 'Hi {{traits.name}} ({{{ traits.age }}}), {{missing}}{{nothing}}!' }, event)).to.equal('Hi Ada Lovelace (36), !')
    })

    it('stringifies like String(): arrays joined, objects as [object Object], 0 and false kept', () => {
      expect(value({ '@template': '{{traits.tags}}|{{traits}}|{{zero}}|{{no}}' }, event)).to.equal('a,b|[object Object]|0|false')
    })

    it('reads placeholder paths as written: no "$." stripping, "{{ }}" is the whole payload', () => {
      expect(value({ '@template': '{{$.a}}|{{ }}|{{.}}' }, event)).to.equal('dollar|[object Object]|[object Object]')
    })

    it('parses stray braces the way Segment does', () => {
      expect(value({ '@template': '{{{event}}|{{event}}}|{ {|{{}}' }, { event: 'e', '{event': 'odd' })).to.equal('odd|e}|{ {|{{}}')
    })

    it('takes the template from a directive, failing when it yields a non-string', () => {
      expect(value({ '@template': { '@path': '$.tpl' } }, { tpl: '{{a}}-{{b}}', a: 1, b: 2 })).to.equal('1-2')
      const error = evalError({ x: { '@template': { '@path': '$.tpl' } } }, { tpl: 3 })
      expect(error.pointer).to.equal('/m/x/@template')
    })

    it('renders an undefined payload (an undefined @arrayPath item) as an empty object', () => {
      expect(value({ '@arrayPath': [{ '@literal': [{ '@path': '$.missing' }] }, { t: { '@template': '<{{ }}>' } }] }, {})).to.deep.equal([
        { t: '<[object Object]>' }
      ])
    })
  })

  describe('@if', () => {
    it('"exists" holds for any value but undefined and null', () => {
      const ifExists = (path: string) => ({ '@if': { exists: { '@path': path }, then: 'yes', else: 'no' } })
      expect(run({ a: ifExists('$.zero'), b: ifExists('$.empty'), c: ifExists('$.nothing'), d: ifExists('$.missing'), e: ifExists('$.no') }, event)).to.deep.equal({
        a: 'yes',
        b: 'yes',
        c: 'no',
        d: 'no',
        e: 'yes'
      })
    })

    it('"blank" also fails for values loosely equal to "" (0, "", false, [], [""])', () => {
      const ifBlank = (path: string) => ({ '@if': { blank: { '@path': path }, then: 'yes', else: 'no' } })
      const data = { zero: 0, empty: '', no: false, list: [], blankList: [''], space: ' ', word: 'w', obj: {} }
      expect(
        run(
          { a: ifBlank('$.zero'), b: ifBlank('$.empty'), c: ifBlank('$.no'), d: ifBlank('$.list'), e: ifBlank('$.blankList'), f: ifBlank('$.space'), g: ifBlank('$.word'), h: ifBlank('$.obj') },
          data
        )
      ).to.deep.equal({ a: 'no', b: 'no', c: 'no', d: 'no', e: 'no', f: 'yes', g: 'yes', h: 'yes' })
    })

    it('without "then" yields nothing when the condition holds; "then" may be falsy', () => {
      expect(run({ a: { '@if': { exists: { '@path': '$.event' }, else: 'no' } }, b: { '@if': { exists: { '@path': '$.event' }, then: 0 } } }, event)).to.deep.equal({ b: 0 })
    })

    it('resolves directives in then/else and a truthy constant condition', () => {
      expect(value({ '@if': { exists: true, then: { '@path': '$.userId' } } }, event)).to.equal('u1')
      expect(value({ '@if': { exists: { '@path': '$.missing' }, else: { '@path': '$.event' } } }, event)).to.equal('Signed Up')
    })
  })

  describe('@case', () => {
    it('lower- or upper-cases strings and passes other values through', () => {
      expect(value({ '@case': { operator: 'lower', value: { '@path': '$.traits.email' } } }, event)).to.equal('ada@example.com')
      expect(value({ '@case': { operator: 'upper', value: 'MiXed' } }, event)).to.equal('MIXED')
      expect(value({ '@case': { operator: 'upper', value: { '@path': '$.traits.age' } } }, event)).to.equal(36)
      expect(value({ '@case': { operator: 'upper', value: { '@path': '$.traits.tags' } } }, event)).to.deep.equal(['a', 'b'])
    })

    it('yields nothing for an empty constant value (Segment tests it before resolving)', () => {
      expect(run({ x: { '@case': { operator: 'lower', value: '' } } }, event)).to.deep.equal({})
      expect(value({ '@case': { operator: 'lower', value: { '@literal': '' } } }, event)).to.equal('')
    })
  })

  describe('@replace', () => {
    it('replaces literal text globally by default, case-sensitively by default', () => {
      expect(value({ '@replace': { pattern: 'a', replacement: 'o', value: 'banAna' } }, event)).to.equal('bonAno')
      expect(value({ '@replace': { pattern: 'a', replacement: 'o', value: 'banAna', global: false } }, event)).to.equal('bonAna')
      expect(value({ '@replace': { pattern: 'a', replacement: 'o', value: 'banAna', ignorecase: true } }, event)).to.equal('bonono')
    })

    it('escapes the pattern but keeps $-patterns in the replacement', () => {
      expect(value({ '@replace': { pattern: '.*', replacement: '!', value: 'a.*b.*' } }, event)).to.equal('a!b!')
      expect(value({ '@replace': { pattern: 'b', replacement: '[$&]', value: 'abc' } }, event)).to.equal('a[b]c')
      expect(value({ '@replace': { pattern: ' ', value: 'a b c' } }, event)).to.equal('abc')
    })

    it('applies pattern2/replacement2 after the first replacement', () => {
      expect(value({ '@replace': { pattern: '-', replacement: ' ', pattern2: 'x', replacement2: 'y', value: 'x-x' } }, event)).to.equal('y y')
      expect(value({ '@replace': { pattern: '-', pattern2: '_', value: 'a-b_c' } }, event)).to.equal('abc')
    })

    it('stringifies numbers and booleans, and turns anything else into ""', () => {
      expect(value({ '@replace': { pattern: '6', replacement: '7', value: { '@path': '$.traits.age' } } }, event)).to.equal('37')
      expect(value({ '@replace': { pattern: 'e', replacement: 'E', value: { '@path': '$.no' } } }, event)).to.equal('falsE')
      expect(value({ '@replace': { pattern: 'a', value: { '@path': '$.missing' } } }, event)).to.equal('')
      expect(value({ '@replace': { pattern: 'a', value: { '@path': '$.traits' } } }, event)).to.equal('')
    })

    it('yields nothing for an empty constant value', () => {
      expect(run({ x: { '@replace': { pattern: 'a', value: '' } } }, event)).to.deep.equal({})
    })
  })

  describe('@arrayPath', () => {
    it('maps each item through the item shape, with the item as payload', () => {
      expect(value({ '@arrayPath': ['$.properties.items', { product_id: { '@path': '$.id' }, cost: { '@path': 'price' } }] }, event)).to.deep.equal([
        { product_id: 'i1', cost: 10 },
        { product_id: 'i2', cost: 20 },
        { cost: 30 }
      ])
    })

    it('keeps undefined items a directive shape yields', () => {
      expect(value({ '@arrayPath': ['$.properties.items', { '@path': '$.id' }] }, event)).to.deep.equal(['i1', 'i2', undefined])
    })

    it('treats an object root as a one-item array, and returns other roots as they are', () => {
      expect(value({ '@arrayPath': ['$.traits', { e: { '@path': '$.email' } }] }, event)).to.deep.equal([{ e: 'Ada@Example.COM' }])
      expect(value({ '@arrayPath': ['$.event', { e: { '@path': '$.email' } }] }, event)).to.equal('Signed Up')
      expect(value({ '@arrayPath': ['$.traits.tags'] }, event)).to.deep.equal(['a', 'b'])
    })

    it('uses a directive as the root itself, not as a path', () => {
      expect(value({ '@arrayPath': [{ '@path': '$.properties.items' }, { id: { '@path': '$.id' } }] }, event)).to.deep.equal([{ id: 'i1' }, { id: 'i2' }, {}])
      expect(value({ '@arrayPath': [{ '@literal': '$.traits' }, { id: { '@path': '$.id' } }] }, event)).to.equal('$.traits')
    })
  })

  describe('@literal', () => {
    it('returns its value, still resolving directives inside it', () => {
      expect(value({ '@literal': { a: [1, 'two', null], b: { '@path': '$.userId' } } }, event)).to.deep.equal({ a: [1, 'two', null], b: 'u1' })
      expect(value({ '@literal': false }, event)).to.equal(false)
    })
  })

  describe('@json', () => {
    it('encodes values as JSON text', () => {
      expect(value({ '@json': { mode: 'encode', value: { '@path': '$.traits.tags' } } }, event)).to.equal('["a","b"]')
      expect(value({ '@json': { mode: 'encode', value: { a: { '@path': '$.missing' }, b: 1 } } }, event)).to.equal('{"b":1}')
      expect(run({ x: { '@json': { mode: 'encode', value: { '@path': '$.missing' } } } }, event)).to.deep.equal({})
    })

    it('decodes JSON text, returning text that is not JSON (and non-strings) unchanged', () => {
      expect(value({ '@json': { mode: 'decode', value: { '@path': '$.raw' } } }, { raw: '{"a":[1,null]}' })).to.deep.equal({ a: [1, null] })
      expect(value({ '@json': { mode: 'decode', value: { '@path': '$.raw' } } }, { raw: 'not json' })).to.equal('not json')
      expect(value({ '@json': { mode: 'decode', value: { '@path': '$.raw' } } }, { raw: { already: true } })).to.deep.equal({ already: true })
    })
  })

  describe('@flatten', () => {
    it('joins nested keys with the separator, arrays included unless omitArrays', () => {
      const data = { o: { a: { b: 1, c: [2, { d: 3 }] }, e: null, f: {} } }
      expect(value({ '@flatten': { separator: '.', value: { '@path': '$.o' } } }, data)).to.deep.equal({ 'a.b': 1, 'a.c.0': 2, 'a.c.1.d': 3, e: null })
      expect(value({ '@flatten': { separator: '_', value: { '@path': '$.o' }, omitArrays: true } }, data)).to.deep.equal({ a_b: 1, a_c: [2, { d: 3 }], e: null })
    })

    it('flattens a non-object into { "": value } and an empty key restarts the prefix', () => {
      expect(value({ '@flatten': { separator: '.', value: 'text' } }, event)).to.deep.equal({ '': 'text' })
      expect(value({ '@flatten': { separator: '.', value: { '': { a: 1 } } } }, event)).to.deep.equal({ a: 1 })
      expect(value({ '@flatten': { separator: '.', value: { '@path': '$.missing' } } }, event)).to.deep.equal({})
    })

    it('lets a later leaf overwrite an earlier one with the same flat key', () => {
      expect(value({ '@flatten': { separator: '.', value: { 'a.b': 1, a: { b: { '@path': '$.missing' } } } } }, event)).to.deep.equal({})
    })
  })

  describe('@merge', () => {
    it('"right" lets later objects win, "left" earlier ones', () => {
      const objects = [{ a: 1, b: 1 }, { '@path': '$.o' }]
      const data = { o: { b: 2, c: 2 } }
      expect(value({ '@merge': { direction: 'right', objects } }, data)).to.deep.equal({ a: 1, b: 2, c: 2 })
      expect(value({ '@merge': { direction: 'left', objects } }, data)).to.deep.equal({ a: 1, b: 1, c: 2 })
    })

    it('lets an undefined value of a later object remove a key, as Object.assign and removeUndefined do', () => {
      expect(value({ '@merge': { direction: 'right', objects: [{ x: 1, y: 1 }, { x: { '@path': '$.missing' } }] } }, event)).to.deep.equal({ y: 1 })
    })

    it('spreads strings into characters and skips missing values, like Object.assign', () => {
      expect(value({ '@merge': { direction: 'right', objects: [{ '@path': '$.s' }, { '@path': '$.missing' }, { '@path': '$.n' }] } }, { s: 'ab', n: 5 })).to.deep.equal({
        0: 'a',
        1: 'b'
      })
    })
  })

  describe('@transform', () => {
    it('resolves "mapping" against the result of "apply"', () => {
      const directive = { '@transform': { apply: { name: { '@path': '$.traits.name' }, n: { '@path': '$.traits.age' } }, mapping: { label: { '@template': '{{name}} ({{n}})' } } } }
      expect(value(directive, event)).to.deep.equal({ label: 'Ada Lovelace (36)' })
    })

    it('accepts a directive as "apply", and fails when the payload it gets is not an object', () => {
      expect(value({ '@transform': { apply: { '@path': '$.traits' }, mapping: { '@path': '$.email' } } }, event)).to.equal('Ada@Example.COM')
      const error = evalError({ x: { '@arrayPath': ['$.list', { '@transform': { apply: { a: 1 }, mapping: { '@path': '$.a' } } }] } }, { list: [{}, 3] })
      expect(error.pointer).to.equal('/m/x/@arrayPath/1/@transform')
      expect(error.message).to.match(/data must be an object, got number/)
    })
  })

  describe('@excludeWhenNull', () => {
    it('drops null and the null keys of nested objects, not nulls inside arrays', () => {
      expect(run({ x: { '@excludeWhenNull': { '@path': '$.nothing' } } }, event)).to.deep.equal({})
      const data = { o: { a: null, b: { c: null, d: 1 }, e: [null, { f: null }] } }
      expect(value({ '@excludeWhenNull': { '@path': '$.o' } }, data)).to.deep.equal({ b: { d: 1 }, e: [null, { f: null }] })
      expect(value({ '@excludeWhenNull': { '@path': '$.zero' } }, event)).to.equal(0)
    })
  })

  describe('@coalesce (ours, not in Segment)', () => {
    const coalesce = (mapping: Record<string, unknown>, data: unknown) => compileMappingKit(mapping, '/m')(data)

    it('returns the first value that is not undefined, null, or blank text', () => {
      const directive = { '@coalesce': [{ '@path': '$.missing' }, { '@path': '$.nothing' }, { '@path': '$.empty' }, { '@path': '$.space' }, { '@path': '$.zero' }, 'last'] }
      expect(coalesce({ x: directive }, { ...event, space: ' \t\n' })).to.deep.equal({ x: 0 })
      expect(coalesce({ x: { '@coalesce': [{ '@path': '$.no' }, 'later'] } }, event)).to.deep.equal({ x: false })
    })

    it('yields nothing when every value is absent, and evaluates lazily', () => {
      expect(coalesce({ x: { '@coalesce': [{ '@path': '$.missing' }, '  '] } }, event)).to.deep.equal({})
      // The second value would fail the event if it were evaluated.
      expect(coalesce({ x: { '@coalesce': ['first', { '@path': { '@path': '$.zero' } }] } }, event)).to.deep.equal({ x: 'first' })
    })

    it('copies an object it returns', () => {
      const result = coalesce({ x: { '@coalesce': [{ '@path': '$.traits' }] } }, event)
      expect(result.x).to.deep.equal(event.traits)
      expect(result.x).not.to.equal(event.traits)
    })
  })

  describe('plain values and objects', () => {
    it('builds nested objects and arrays, dropping undefined keys but keeping undefined array items', () => {
      const mapping = { user: { id: { '@path': '$.userId' }, gone: { '@path': '$.missing' }, list: [{ '@path': '$.missing' }, 1, 'two', null, true] }, n: 3 }
      expect(run(mapping, event)).to.deep.equal({ user: { id: 'u1', list: [undefined, 1, 'two', null, true] }, n: 3 })
    })

    it('builds fresh objects for every event', () => {
      const compiled = compileMappingKit({ o: { a: [1] } }, '/m')
      const first = compiled({})
      ;(first.o as { a: number[] }).a.push(2)
      expect(compiled({})).to.deep.equal({ o: { a: [1] } })
    })

    it('ignores "_metadata" next to a directive, as Segment does', () => {
      expect(value({ '@path': '$.userId', _metadata: { label: 'User' } }, event)).to.equal('u1')
    })

    it('checks the data is an object, defaulting undefined to {}', () => {
      const compiled = compileMappingKit({ a: 1, b: { '@path': '$.x' } }, '/m')
      expect(compiled(undefined)).to.deep.equal({ a: 1 })
      const error = evalError({ a: 1 }, [1])
      expect(error.pointer).to.equal('/m')
      expect(error.message).to.match(/data must be an object, got array/)
    })

    it('compileValue() resolves one value like a transform() field', () => {
      const resolve = compileValue({ a: { '@path': '$.userId' }, b: { '@path': '$.missing' } }, '/v')
      expect(resolve(event)).to.deep.equal({ a: 'u1' })
      expect(compileValue('constant', '/v')(event)).to.equal('constant')
      expect(() => compileValue({ '@path': { '@path': '$.zero' } }, '/v')(event)).to.throw(MappingEvalError, /\/v\/@path/)
    })
  })
})
