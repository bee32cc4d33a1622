/**
 * @liquid against Segment's transform(): Segment's own liquid test cases (actions-core's
 * mapping-kit/__tests__/liquid.test.ts), then generated (mapping, event) pairs with
 * templates of every allowed kind, placed where the payload is the event, an @arrayPath
 * item or an @transform result. Both must throw, or both return deep-equal results.
 *
 * Left out, because DELIBERATE_DIFFERENCES covers them (kit-differences.test.ts):
 * increment/decrement (liquid-counters), and the machine's time zone (liquid-utc-dates:
 * Segment runs here with TZ=UTC). "now"/"today" dates are left out as they change.
 *
 * Seed: KIT_SEED=<n> npx mocha test/mapping/kit-liquid.test.ts
 */
import { expect } from 'chai'
import { MappingError } from '../../src/errors'
import { compileMappingKit, MappingEvalError } from '../../src/mapping/kit/compile-mapping-kit'
import { liquidEngine } from '../../src/mapping/kit/liquid-engine'
import { seededRandom } from '../support/seeded-random'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transform } = require('@segment/actions-core') as { transform: (mapping: unknown, data: unknown) => unknown }

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const DEFAULT_SEED = 20261202
const CASES = 1500

/** Runs `body` with the process in UTC, as Segment's side must be for dates to compare (liquid-utc-dates). */
function inUtc<T>(body: () => T): T {
  const zone = process.env.TZ
  process.env.TZ = 'UTC'
  try {
    return body()
  } finally {
    if (zone === undefined) delete process.env.TZ
    else process.env.TZ = zone
  }
}

type Outcome = { value: unknown } | { error: unknown }

function run(fn: () => unknown): Outcome {
  try {
    return { value: fn() }
  } catch (error) {
    return { error }
  }
}

/** Compares one case; `ours` compiles and maps the event without copying it. */
function compare(mapping: Record<string, Json>, event: Record<string, Json>, where: () => string): 'both-threw' | 'equal' {
  const eventBefore = JSON.stringify(event)
  const theirs = inUtc(() => run(() => transform(structuredClone(mapping), structuredClone(event))))
  let compiled: (payload: unknown) => Record<string, unknown>
  try {
    compiled = compileMappingKit(mapping, '', { jsonPayload: true })
  } catch (error) {
    throw new Error(`our compiler refused a generated mapping: ${(error as Error).message}\n${where()}`)
  }
  const ours = run(() => compiled(event))
  expect(JSON.stringify(event), `the event was modified\n${where()}`).to.equal(eventBefore)
  if ('error' in theirs) {
    if (!('error' in ours) || !(ours.error instanceof MappingEvalError)) {
      throw new Error(`Segment threw (${String(theirs.error).slice(0, 200)}) but we gave ${JSON.stringify(ours)}\n${where()}`)
    }
    return 'both-threw'
  }
  if ('error' in ours) throw new Error(`we threw (${String(ours.error)}) but Segment returned ${JSON.stringify(theirs.value)}\n${where()}`)
  expect(ours.value, where()).to.deep.equal(theirs.value)
  return 'equal'
}

describe('@liquid vs Segment transform()', () => {
  describe("Segment's own liquid test cases", () => {
    const cases: Array<{ name: string; mapping: Record<string, Json>; event: Record<string, Json>; expected: Record<string, Json> }> = [
      { name: 'connected', mapping: { field: { '@liquid': 'test' } }, event: { properties: { test: 'abc' } }, expected: { field: 'test' } },
      {
        name: 'simple',
        mapping: { field: { '@liquid': 'Hello, {{ properties.world }} !' } },
        event: { properties: { world: 'Earth' } },
        expected: { field: 'Hello, Earth !' }
      },
      {
        name: 'simple with multiple mappings',
        mapping: { fieldA: { '@liquid': 'Hello, {{ properties.world }}' }, fieldB: { '@liquid': 'Hi Patrick this is {{ properties.name }}' } },
        event: { properties: { world: 'Earth', name: 'SpongeBob' } },
        expected: { fieldA: 'Hello, Earth', fieldB: 'Hi Patrick this is SpongeBob' }
      },
      {
        name: 'simple with multiple mappings and nested objects',
        mapping: {
          fieldA: { '@liquid': 'Hello, {{ properties.planet.country.city }}' },
          fieldB: { '@liquid': 'Hi Patrick this is {{ properties.name }}, I want a {{ traits.preferences.food }}' }
        },
        event: { properties: { planet: { country: { city: 'Bikini Bottom' } }, name: 'SpongeBob' }, traits: { preferences: { food: 'Krabby Patty' } } },
        expected: { fieldA: 'Hello, Bikini Bottom', fieldB: 'Hi Patrick this is SpongeBob, I want a Krabby Patty' }
      },
      {
        name: 'with a tag',
        mapping: { field: { '@liquid': '{% if properties.world == "Earth" %}Hello {{ properties.world }} {% else %} Hello World {% endif %}' } },
        event: { properties: { world: 'Earth' } },
        expected: { field: 'Hello Earth ' }
      },
      {
        name: 'with a filter',
        mapping: { field: { '@liquid': 'HELLO {{ properties.world | upcase }}' } },
        event: { properties: { world: 'earth' } },
        expected: { field: 'HELLO EARTH' }
      },
      {
        name: 'with a tag and with a filter',
        mapping: { field: { '@liquid': '{% if properties.world == "earth" %}Hello {{ properties.world | upcase }}{% else %} Hello World {% endif %}' } },
        event: { properties: { world: 'earth' } },
        expected: { field: 'Hello EARTH' }
      }
    ]
    for (const { name, mapping, event, expected } of cases) {
      it(`${name}: both give Segment's expected result`, () => {
        expect(transform(structuredClone(mapping), structuredClone(event))).to.deep.equal(expected)
        expect(compileMappingKit(mapping, '/m')(event)).to.deep.equal(expected)
      })
    }

    /** Segment throws on every event (`message`); we refuse the mapping when it loads. */
    function refusedByBoth(operand: unknown, segmentMessage: RegExp, ourMessage: RegExp): void {
      const mapping = { field: { '@liquid': operand } }
      const event = { properties: { test: 'test' } }
      expect(() => transform(structuredClone(mapping), event)).to.throw(segmentMessage)
      expect(() => compileMappingKit(mapping, '/m')).to.throw(MappingError, ourMessage)
    }

    it('a template that is not a string: Segment fails every event, we refuse it at load', () => {
      for (const operand of [123, {}, [], true]) refusedByBoth(operand, /should be a string but it is/, /^\/m\/field\/@liquid: @liquid takes a Liquid template string/)
    })

    it('the 1000-character limit: Segment fails every event, we refuse it at load', () => {
      refusedByBoth('{{ properties.test }}' + 'a'.repeat(1001), /^liquid template values are limited to 1000 characters/, /limited to 1000 characters, as in Segment; this one has 1022/)
    })

    it('each disabled tag: Segment fails every event, we refuse it at load', () => {
      for (const tag of ['case', 'for', 'include', 'layout', 'render', 'tablerow']) {
        refusedByBoth(`{% ${tag} %} , {{ properties.test }}`, new RegExp(`^tag "${tag}" is disabled`), new RegExp(`@liquid tag "${tag}" is disabled in Segment`))
      }
    })

    it('each disabled filter: Segment fails the events that reach it, we refuse it at load', () => {
      const disabled = ['array_to_sentence_string', 'concat', 'find', 'find_exp', 'find_index', 'find_index_exp', 'group_by', 'group_by_exp', 'has', 'has_exp',
        'map', 'newline_to_br', 'reject', 'reject_exp', 'reverse', 'sort', 'sort_natural', 'uniq', 'where_exp', 'type']
      for (const filter of disabled) {
        refusedByBoth(`{{ properties.test | ${filter} }}`, new RegExp(`^filter "${filter}" is disabled`), new RegExp(`@liquid filter "${filter}" is disabled in Segment`))
      }
    })
  })

  it('parses a template once, when the mapping compiles, and only renders per event', () => {
    const parse = liquidEngine.parse
    let parses = 0
    liquidEngine.parse = function (...args: Parameters<typeof parse>) {
      parses++
      return parse.apply(this, args)
    }
    try {
      const compiled = compileMappingKit({ a: { '@liquid': 'Hi {{ name | upcase }}' }, list: { '@arrayPath': ['$.items', { b: { '@liquid': '{{ id }}' } }] } }, '/m')
      expect(parses).to.equal(2)
      for (const name of ['ada', 'bo', 'cy']) expect(compiled({ name, items: [{ id: 1 }, { id: 2 }] })).to.deep.equal({ a: `Hi ${name.toUpperCase()}`, list: [{ b: '1' }, { b: '2' }] })
      expect(parses).to.equal(2)
    } finally {
      liquidEngine.parse = parse
    }
  })

  describe('generated cases', () => {
    const seed = process.env.KIT_SEED !== undefined ? Number(process.env.KIT_SEED) : DEFAULT_SEED

    it(`agrees with transform() on ${CASES} random cases`, function () {
      this.timeout(30_000)
      const generator = new LiquidCaseGenerator(seededRandom(seed))
      const outcomes = { 'both-threw': 0, equal: 0 }
      let nonEmpty = 0
      for (let index = 0; index < CASES; index++) {
        const mapping = generator.mapping()
        const event = generator.event()
        const where = (): string => `seed ${seed} (rerun with KIT_SEED=${seed}), case ${index}\nmapping: ${JSON.stringify(mapping)}\nevent: ${JSON.stringify(event)}`
        const outcome = compare(mapping, event, where)
        outcomes[outcome]++
        if (outcome === 'equal' && JSON.stringify(compileMappingKit(mapping, '')(event)).length > 20) nonEmpty++
      }
      // Results must mostly be real text, or the generator has drifted into trivia.
      expect(nonEmpty, 'cases with real output').to.be.greaterThan(CASES / 2)
      expect(outcomes['both-threw'], 'cases where both threw').to.be.lessThan(CASES / 10)
    })
  })
})

const KEYS = ['name', 'email', 'n', 'list', 'o', 'flag', 'empty', 'nul', 'when', 'x-y']
const STRINGS = ['', ' ', 'abc', 'Hello World', 'a,b,c', ' padded ', 'ÄÖü', '<b>bold</b>', 'a&b', 'UPPER', '42', '3.7', 'ada@example.com', '2026-03-04T05:06:07Z', '2026-03-04 05:06', 'true']
const NUMBERS = [0, 1, -2, 3.5, 42, 1e21, 1767310200]
const PATHS = ['name', 'email', 'n', 'list', 'list[0]', 'list.first', 'list.last', 'list.size', 'o', 'o.k', 'o.list', 'o.name.size', 'flag', 'empty', 'nul', 'when', 'missing', 'missing.deep', 'name.size', '["x-y"]', 'o["k"]']
const LITERALS = ['"abc"', '""', '1', '2.5', 'true', 'false', 'nil', 'empty', 'blank', '"Hello World"']
const FILTERS = [
  'upcase', 'downcase', 'capitalize', 'append: "!"', 'prepend: ">"', 'default: "none"', 'default: "none", allow_false: true', 'size', 'first', 'last', 'join: "|"',
  'split: ","', 'strip', 'lstrip', 'rstrip', 'truncate: 5', 'truncatewords: 1', 'replace: "a", "_"', 'replace_first: "l", "L"', 'remove: "a"', 'slice: 1, 2',
  'plus: 1', 'minus: 2', 'times: 3', 'divided_by: 2', 'modulo: 3', 'abs', 'ceil', 'floor', 'round', 'json', 'jsonify', 'escape', 'escape_once', 'url_encode', 'url_decode',
  'strip_html', 'strip_newlines', 'compact', 'sum', 'where: "k", 1', 'push: "z"', 'pop', 'shift', 'unshift: "a"', 'at_least: 2', 'at_most: 2', 'slugify',
  'date: "%Y-%m-%d %H:%M"', 'date_to_xmlschema', 'date_to_string', 'to_integer', 'number_of_words', 'base64_encode', 'sha256', 'squish', 'inspect', 'remove_last: "c"'
]
const OPERATORS = ['==', '!=', '>', '<', '>=', '<=', 'contains']

class LiquidCaseGenerator {
  constructor(private readonly next: () => number) {}

  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  data(depth: number): Json {
    switch (this.int(depth >= 2 ? 4 : 6)) {
      case 0:
        return this.pick(NUMBERS)
      case 1:
      case 2:
        return this.pick(STRINGS)
      case 3:
        return this.pick([true, false, null])
      case 4:
        return Array.from({ length: this.int(4) }, () => this.data(depth + 1))
      default: {
        const result: { [key: string]: Json } = {}
        for (const key of ['k', 'name', 'list']) if (this.chance(0.6)) result[key] = this.data(depth + 1)
        return result
      }
    }
  }

  event(): Record<string, Json> {
    const event: Record<string, Json> = {}
    for (const key of KEYS) if (this.chance(0.75)) event[key] = this.data(0)
    event.items = Array.from({ length: this.int(3) }, () => (this.chance(0.8) ? this.event_item() : this.data(1)))
    return event
  }

  event_item(): Json {
    const item: { [key: string]: Json } = {}
    for (const key of KEYS.slice(0, 5)) if (this.chance(0.7)) item[key] = this.data(1)
    return item
  }

  value(): string {
    return this.chance(0.8) ? this.pick(PATHS) : this.pick(LITERALS)
  }

  filtered(): string {
    let text = this.value()
    const count = this.int(3)
    for (let i = 0; i < count; i++) text += ` | ${this.pick(FILTERS)}`
    return text
  }

  condition(): string {
    const one = (): string => (this.chance(0.3) ? this.value() : `${this.value()} ${this.pick(OPERATORS)} ${this.value()}`)
    return this.chance(0.25) ? `${one()} ${this.pick(['and', 'or'])} ${one()}` : one()
  }

  /** A template of up to a few pieces; `depth` bounds nesting of if/unless/capture. */
  template(depth = 0): string {
    let text = ''
    const pieces = 1 + this.int(4)
    for (let i = 0; i < pieces; i++) {
      const roll = this.int(depth >= 2 ? 4 : 10)
      switch (roll) {
        case 0:
          text += this.pick(['Hi ', ' ', '-', '{ x }', 'a}b', '\n', '%'])
          break
        case 1:
        case 2:
        case 3:
          text += `{{ ${this.filtered()} }}`
          break
        case 4:
          text += `{% if ${this.condition()} %}${this.template(depth + 1)}${this.chance(0.3) ? `{% elsif ${this.condition()} %}${this.template(depth + 1)}` : ''}${this.chance(0.5) ? `{% else %}${this.template(depth + 1)}` : ''}{% endif %}`
          break
        case 5:
          text += `{% unless ${this.condition()} %}${this.template(depth + 1)}{% endunless %}`
          break
        case 6:
          text += `{% assign v = ${this.filtered()} %}{{ v${this.chance(0.5) ? ` | ${this.pick(FILTERS)}` : ''} }}`
          break
        case 7:
          text += `{% capture c %}${this.template(depth + 1)}{% endcapture %}{{ c | ${this.pick(FILTERS)} }}`
          break
        case 8:
          text += this.pick([`{% echo ${this.filtered()} %}`, `{% liquid\n  assign w = ${this.filtered()}\n  echo w\n%}`, '{% raw %}{{ name }}{% endraw %}', '{% comment %}x{% endcomment %}', `{% cycle "a", "b" %}{% cycle "a", "b" %}`])
          break
        default:
          text += `{{ ${this.pick(PATHS)} }}`
      }
    }
    return text
  }

  liquid(): Json {
    for (;;) {
      const template = this.template()
      if (template.length <= 1000) return { '@liquid': template }
    }
  }

  /** A mapping value holding @liquid where the template's scope is the event, an @arrayPath item or an @transform result. */
  placed(): Json {
    switch (this.int(9)) {
      case 0:
        return { '@arrayPath': ['$.items', { out: this.liquid(), name: { '@path': '$.name' } }] }
      case 1:
        return { '@transform': { apply: { a: this.liquid(), name: { '@path': '$.o.name' } }, mapping: { got: { '@path': '$.a' }, again: this.liquid() } } }
      case 2:
        return { '@if': { exists: { '@path': this.pick(['$.name', '$.missing', '$.nul']) }, then: this.liquid(), else: this.liquid() } }
      case 3:
        return { '@case': { operator: this.pick(['lower', 'upper']), value: this.liquid() } }
      case 4:
        return { '@json': { mode: 'decode', value: { '@liquid': `{{ ${this.pick(PATHS)} | json }}` } } }
      case 5:
        return { '@replace': { pattern: this.pick(['a', ' ', '-']), replacement: '_', value: this.liquid() } }
      default:
        return this.liquid()
    }
  }

  mapping(): Record<string, Json> {
    const mapping: Record<string, Json> = {}
    const count = 1 + this.int(3)
    for (let i = 0; i < count; i++) mapping[`f${i}`] = this.placed()
    return mapping
  }
}
