/**
 * Differential test: random (mapping, event) pairs over every Segment directive, run
 * through Segment's transform() and through our compiled mapping. Both must throw, or
 * both must return deep-equal results.
 *
 * The generator never produces what DELIBERATE_DIFFERENCES covers (those have their own
 * tests in kit-differences.test.ts): no "__proto__"/inherited-member keys or paths, no
 * falsy constant @if "else", no @coalesce, no directive @flatten separators, no deep
 * nesting, and templates with {{{ }}} only in cases whose strings hold no braces at all,
 * so Segment's second template pass cannot find anything in substituted text.
 *
 * Each case runs twice on our side: copying what @path reads, and sharing it (jsonPayload,
 * what the product uses: its events are JSON data); both must agree with Segment.
 *
 * Seed: KIT_SEED=<n> npx mocha test/mapping/kit-differential.test.ts
 */
import { expect } from 'chai'
import { compileMappingKit, MappingEvalError } from '../../src/mapping/kit/compile-mapping-kit'
import { seededRandom } from '../support/seeded-random'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transform } = require('@segment/actions-core') as { transform: (mapping: unknown, data: unknown) => unknown }

const DEFAULT_SEED = 20240611
const CASES = 3000

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * "plain": no string anywhere holds a brace, and templates may use {{{ }}}.
 * "braces": strings may hold braces, and templates only {{ }} (and never a {{{ }}} match).
 */
type Mode = 'plain' | 'braces'

const EVENT_KEYS = ['a', 'b', 'c', 'id', 'name', 'email', 'items', '0', '1', 'x-y', 'length', 'A', '$', '', 'a.b']
const FIELD_NAMES = ['f1', 'f2', 'out', 'a', 'b', 'items', 'name', 'id', '0']
const PLAIN_STRINGS = ['', ' ', 'abc', 'ABC', 'Hello World', 'a-b_c', 'a.b', '0', 'null', 'true', '[1,2]', '  x  ', 'ÄÖü', 'a$b', 'x y z', 'aaa', 'banana', 'a-a-a', 'b.c.d', 'A-a', '1.5', '"q"']
const BRACE_STRINGS = ['{"k":1}', '{{a}}', '{{ b }}', '{x}', '}}', '{{ }}', '{{a}}}', '{"a":{"b":null},"c":[1,"x"]}', 'x {{name}} y', '{{items.0}}']
const NUMBERS = [0, 1, -1, 2.5, 42, 1e21, 0.1]
const DATA_PATHS = ['a', '$.a', '$.a.b', 'items[0]', '$.items[1].id', "a['b']", '', '.', '$', '$.', 'name.length', 'a..b', 'x-y', '$.items']
const STATIC_PLAIN = ['', 'Hi ', ' ', '-', 'x', ': ', '!', 'a.b']
const STATIC_BRACES = ['{', '}', '{ {', '} }', '{{', '}}', '{{{a}}', '{{a}}}', '{{}}', '{}', '{{ }}']
const PATH_KEYS = ['a', 'b', 'c', 'id', 'name', 'email', 'items', '0', '1', 'x-y', 'length', 'A', '$']

class Generator {
  constructor(
    private readonly next: () => number,
    readonly mode: Mode
  ) {}

  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
  string(): string {
    return this.mode === 'braces' && this.chance(0.3) ? this.pick(BRACE_STRINGS) : this.pick(PLAIN_STRINGS)
  }

  // ---- events ----

  data(depth: number): Json {
    const roll = this.int(depth >= 3 ? 4 : 7)
    switch (roll) {
      case 0:
        return this.pick(NUMBERS)
      case 1:
        return this.string()
      case 2:
        return this.pick([true, false, null])
      case 3:
        return this.chance(0.5) ? this.string() : this.pick(NUMBERS)
      case 4:
      case 5: {
        const result: { [key: string]: Json } = {}
        const count = this.int(4)
        for (let i = 0; i < count; i++) result[this.pick(EVENT_KEYS)] = this.data(depth + 1)
        return result
      }
      default:
        return Array.from({ length: this.int(4) }, () => this.data(depth + 1))
    }
  }

  event(): { [key: string]: Json } {
    const event: { [key: string]: Json } = {}
    for (const key of EVENT_KEYS) if (this.chance(0.6)) event[key] = this.data(1)
    if (this.chance(0.6)) event.name = this.string()
    if (this.chance(0.6)) event.email = this.string()
    if (this.chance(0.7)) event.items = Array.from({ length: this.int(4) }, () => this.data(2))
    event.tpl = this.chance(0.85) ? this.template(false) : this.pick<Json>([3, null, true])
    event.p = this.chance(0.85) ? this.pick(DATA_PATHS) : this.pick<Json>([7, null, false, ['a']])
    return event
  }

  // ---- paths and templates ----

  path(): string {
    const roll = this.next()
    if (roll < 0.05) return this.pick(['$', '$.', '', '.', '$.$.a', 'a.$.b'])
    const count = 1 + this.int(3)
    let path = this.chance(0.7) ? '$' : ''
    for (let i = 0; i < count; i++) {
      const key = this.pick(PATH_KEYS)
      const first = path === ''
      if (/^\d+$/.test(key) && !first && this.chance(0.5)) path += `[${key}]`
      else if (!first && this.chance(0.15)) path += this.chance(0.5) ? `['${key}']` : `["${key}"]`
      else path += (first ? '' : this.chance(0.05) ? '..' : '.') + key
    }
    if (this.chance(0.03)) path += '.'
    return path
  }

  placeholder(triple: boolean): string {
    const pad = () => this.pick(['', '', ' ', '  '])
    const path = this.chance(0.08) ? this.pick(['', '.', '$.a', '$']) : this.path().replace(/^\$\./, this.chance(0.2) ? '$.' : '')
    return triple ? `{{{${pad()}${path}${pad()}}}}` : `{{${pad()}${path}${pad()}}}`
  }

  /** A template; `allowTriple` is only honoured in plain mode. */
  template(allowTriple = true): string {
    for (;;) {
      let text = ''
      const pieces = 1 + this.int(4)
      for (let i = 0; i < pieces; i++) {
        const roll = this.next()
        if (roll < 0.35) text += this.mode === 'braces' && this.chance(0.4) ? this.pick(STATIC_BRACES) : this.pick(STATIC_PLAIN)
        else text += this.placeholder(allowTriple && this.mode === 'plain' && roll > 0.8)
      }
      // In braces mode a {{{ }}} match formed by stray braces would reach the rescan difference.
      if (this.mode === 'plain' || !/\{\{\{([^}]+)\}\}\}/.test(text)) return text
    }
  }

  // ---- mapping values ----

  constant(): Json {
    const roll = this.int(5)
    if (roll === 0) return this.pick(NUMBERS)
    if (roll === 1) return this.pick([true, false, null])
    return this.string()
  }

  truthyConstant(): Json {
    return this.pick<Json>([true, 1, 'x', ' ', '0', 'abc', 42, [], {}, ['a']])
  }

  fields(depth: number, names: readonly string[] = FIELD_NAMES): { [key: string]: Json } {
    const result: { [key: string]: Json } = {}
    const count = 1 + this.int(3)
    for (let i = 0; i < count; i++) result[this.pick(names)] = this.value(depth + 1)
    return result
  }

  value(depth: number): Json {
    if (depth >= 4) return this.chance(0.6) ? { '@path': this.path() } : this.constant()
    const roll = this.next()
    if (roll < 0.12) return this.constant()
    if (roll < 0.17) return this.fields(depth)
    if (roll < 0.2) return Array.from({ length: this.int(3) }, () => this.value(depth + 1))
    return this.directive(depth)
  }

  /** A value that is a directive or an object, as @merge "objects" and @transform want. */
  objectOrDirective(depth: number, names: readonly string[] = FIELD_NAMES): Json {
    if (this.chance(0.4)) return this.fields(depth, names)
    if (this.chance(0.6)) return { '@path': this.pick(['$.a', '$.b', '$', '$.', '$.items', '$.items[0]', '$.c.a', this.path()]) }
    return this.directive(depth)
  }

  directive(depth: number): Json {
    const d = depth + 1
    const name = this.pick([
      '@path', '@path', '@path', '@template', '@if', '@case', '@replace', '@arrayPath',
      '@literal', '@json', '@flatten', '@merge', '@transform', '@excludeWhenNull'
    ])
    let result: { [key: string]: Json }
    switch (name) {
      case '@path': {
        const roll = this.next()
        if (roll < 0.85) result = { '@path': this.path() }
        else if (roll < 0.92) result = { '@path': { '@path': '$.p' } }
        else if (roll < 0.96) result = { '@path': { '@template': '{{p}}' } }
        else result = { '@path': { '@literal': this.pick(DATA_PATHS) } }
        break
      }
      case '@template': {
        const roll = this.next()
        if (roll < 0.8) result = { '@template': this.template() }
        else if (roll < 0.9) result = { '@template': { '@path': '$.tpl' } }
        else result = { '@template': { '@literal': this.template() } }
        break
      }
      case '@if': {
        const key = this.chance(0.5) ? 'exists' : 'blank'
        const options: { [key: string]: Json } = {
          [key]: this.chance(0.8) ? { '@path': this.path() } : this.chance(0.5) ? this.truthyConstant() : this.directive(d)
        }
        const withThen = this.chance(0.75)
        if (withThen) options.then = this.value(d)
        if (!withThen || this.chance(0.7)) {
          const otherwise = this.value(d)
          // A falsy constant "else" is DELIBERATE_DIFFERENCES "if-falsy-else".
          options.else = otherwise === null || typeof otherwise !== 'object' ? otherwise || 'fallback' : otherwise
        }
        result = { '@if': options }
        break
      }
      case '@case':
        result = {
          '@case': { operator: this.pick(['lower', 'upper']), value: this.chance(0.2) ? this.string() : this.directive(d) }
        }
        break
      case '@replace': {
        const patterns = ['a', 'b', 'A', '-', ' ', '.', '$', 'ab', '[', ')', '*', '\\', 'x y', '0', 'aaaaaaaaaa', 'l', 'o W']
        const replacements = ['', 'x', '$&', '$$', '_', '$1', "$'", '$`', 'AB', '.', '0123456789']
        const options: { [key: string]: Json } = {
          pattern: this.pick(patterns),
          value: this.chance(0.3) ? this.string() : this.chance(0.6) ? { '@path': this.pick(['$.name', '$.email', '$.a', '$.b.a']) } : this.directive(d)
        }
        if (this.chance(0.7)) options.replacement = this.pick(replacements)
        if (this.chance(0.3)) {
          options.pattern2 = this.pick(patterns)
          if (this.chance(0.7)) options.replacement2 = this.pick(replacements)
        }
        if (this.chance(0.3)) options.ignorecase = this.chance(0.5)
        if (this.chance(0.3)) options.global = this.chance(0.5)
        result = { '@replace': options }
        break
      }
      case '@arrayPath': {
        const root: Json = this.chance(0.8) ? this.pick(['$.items', 'items', '$.a', '$.b', '$', this.path()]) : this.directive(d)
        const operand: Json[] = [root]
        if (this.chance(0.7)) operand.push(this.chance(0.7) ? this.fields(d, EVENT_KEYS) : this.directive(d))
        result = { '@arrayPath': operand }
        break
      }
      case '@literal':
        result = { '@literal': this.value(d) }
        break
      case '@json': {
        const value: Json = this.chance(0.8) ? this.value(d) : this.truthyConstant()
        result = { '@json': { mode: this.pick(['encode', 'decode']), value: value || 'x' } }
        break
      }
      case '@flatten': {
        const options: { [key: string]: Json } = {
          separator: this.pick(['.', '_', '/', '__', '-']),
          value: this.chance(0.7) ? { '@path': this.pick(['$', '$.a', '$.items', '$.b', this.path()]) } : this.value(d)
        }
        if (this.chance(0.3)) options.omitArrays = this.chance(0.5)
        result = { '@flatten': options }
        break
      }
      case '@merge':
        result = {
          '@merge': {
            direction: this.pick(['left', 'right']),
            objects: Array.from({ length: this.int(4) }, () => this.objectOrDirective(d))
          }
        }
        break
      case '@transform':
        result = { '@transform': { apply: this.objectOrDirective(d, EVENT_KEYS), mapping: this.objectOrDirective(d) } }
        break
      default:
        result = { '@excludeWhenNull': this.value(d) }
    }
    // Segment ignores "_metadata" next to a directive; so must we.
    if (this.chance(0.02)) result._metadata = { note: 'ui' }
    return result
  }

  mapping(): { [key: string]: Json } {
    const mapping: { [key: string]: Json } = {}
    const count = 1 + this.int(4)
    for (let i = 0; i < count; i++) mapping[this.pick(FIELD_NAMES)] = this.value(0)
    return mapping
  }
}

function describeCase(seed: number, index: number, mapping: unknown, event: unknown): string {
  return `seed ${seed} (rerun with KIT_SEED=${seed}), case ${index}\nmapping: ${JSON.stringify(mapping)}\nevent: ${JSON.stringify(event)}`
}

describe('mapping-kit compiler vs Segment transform() (differential)', () => {
  const seed = process.env.KIT_SEED !== undefined ? Number(process.env.KIT_SEED) : DEFAULT_SEED

  it(`agrees with transform() on ${CASES} random cases`, function () {
    this.timeout(20_000)
    const next = seededRandom(seed)
    let throwsBoth = 0
    for (let index = 0; index < CASES; index++) {
      const generator = new Generator(next, next() < 0.5 ? 'plain' : 'braces')
      const mapping = generator.mapping()
      const event = generator.event()
      const eventBefore = JSON.stringify(event)

      let theirs: unknown
      let theirError: unknown
      try {
        theirs = transform(structuredClone(mapping), structuredClone(event))
      } catch (error) {
        theirError = error
      }

      // The events are JSON data, so sharing what @path reads (jsonPayload) must give the same results.
      for (const jsonPayload of [false, true]) {
        const where = (): string => `${describeCase(seed, index, mapping, event)}\njsonPayload: ${jsonPayload}`
        let compiled: (payload: unknown) => Record<string, unknown>
        try {
          compiled = compileMappingKit(mapping, '', { jsonPayload })
        } catch (error) {
          throw new Error(`our compiler refused a generated mapping: ${(error as Error).message}\n${where()}`)
        }
        let ours: unknown
        let ourError: unknown
        try {
          ours = compiled(event)
        } catch (error) {
          ourError = error
        }

        if (theirError !== undefined) {
          if (!(ourError instanceof MappingEvalError)) {
            throw new Error(
              `Segment threw (${(theirError as Error).message.trim().slice(0, 200)}) but we ${ourError === undefined ? `returned ${JSON.stringify(ours)}` : `threw ${String(ourError)}`}\n${where()}`
            )
          }
          if (!jsonPayload) throwsBoth++
        } else {
          if (ourError !== undefined) {
            throw new Error(`we threw (${String(ourError)}) but Segment returned ${JSON.stringify(theirs)}\n${where()}`)
          }
          expect(ours, where()).to.deep.equal(theirs)
        }
        expect(JSON.stringify(event), `the event was modified\n${where()}`).to.equal(eventBefore)
      }
    }
    // Both kinds of outcome must actually be exercised, or the generator has drifted.
    expect(throwsBoth, 'cases where both threw').to.be.greaterThan(10)
    expect(throwsBoth, 'cases where both threw').to.be.lessThan(CASES / 4)
  })
})
