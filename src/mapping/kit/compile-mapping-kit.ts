/**
 * Our compiler for Segment's mapping-kit (the directives of @segment/actions-core's
 * transform()). A mapping is checked and compiled once into plain closures; evaluating an
 * event then does no validation, no path splitting and no template parsing. Results are
 * the same as transform()'s for every mapping we accept, except for these deliberate
 * differences (also exported as DELIBERATE_DIFFERENCES, and each one tested against
 * Segment in test/mapping/kit-differences.test.ts):
 *
 *  1. if-falsy-else: `{"@if": {..., "else": false}}` (or 0, "", null) returns the falsy
 *     "else" value. Segment tests `opts.else` for truthiness and returns undefined, which
 *     is never what a mapping author wrote "else": false for.
 *  2. coalesce: a new directive, `{"@coalesce": [v1, v2, ...]}`, returns the first resolved
 *     value that is not undefined, null, or an empty or whitespace-only string (undefined
 *     when there is none). Segment rejects it as an invalid directive. Without it, a
 *     fallback chain is a pyramid of @if.
 *  3. proto-keys: an own "__proto__" key in event data (JSON.parse makes one), or one made
 *     by @json decode, @flatten or @merge, is copied as an ordinary own key. Segment copies
 *     with Object.assign and assignment, which turns such a key into the prototype of the
 *     result object (so `result.isAdmin` can come from event data) or drops it.
 *     Object.prototype is never modified, by Segment or by us.
 *  4. prototype-reads: paths read data, never the JavaScript prototype chain. A path naming
 *     "__proto__", "constructor" or "prototype" is a compile-time error (a path taken from
 *     event data reads as missing instead), and a path step that lands on a function (only
 *     a prototype can supply one, e.g. "$.name.toUpperCase" or "{{a.toString}}") reads as
 *     undefined. Segment returns the built-in function, or renders its source code.
 *  5. template-no-rescan: text substituted for `{{{ path }}}` is not scanned again for
 *     `{{ path }}` placeholders. Segment renders in two string passes, so event data
 *     containing "{{traits.email}}" gets expanded (a template injection that also lets
 *     event data choose which paths are read).
 *  6. flatten-separator-directive: an @flatten "separator" may be a directive yielding a
 *     string anywhere. Segment's runtime resolves it, but its validator rejects it wherever
 *     validation reaches (outside arrays and @literal), so the same directive works or fails
 *     depending on where it sits.
 *  7. strict-compile: mappings that Segment accepts but misreads are refused at compile time
 *     with a MappingError at the offending key: unknown directives and option keys, two
 *     @-keys or extra keys in a directive, option types per validate.js and a bit stricter
 *     (e.g. @json "mode" and @merge "direction" in lower case, @case "value" required,
 *     "replacement2" without "pattern2", an empty @arrayPath item shape), constant falsy
 *     @if conditions and @json values (which make Segment fail on every event), "__proto__"
 *     keys in the mapping, "__segment_internal_directive", nesting deeper than
 *     MAX_MAPPING_DEPTH, and @liquid templates Segment fails on every event (over 1000
 *     characters, a syntax error, a disabled tag) or misreads (an unknown filter, which
 *     Segment skips, and a disabled filter, which Segment fails on only when it runs).
 *  8. deep-nesting: removeUndefined, @flatten and @excludeWhenNull walk data with loops, so
 *     event data nested 10 000 levels deep maps fine; Segment's recursive versions throw a
 *     RangeError from about 3 000 levels. (@json "encode" uses JSON.stringify, which still
 *     overflows on very deep data; that throws MappingEvalError where Segment throws too.)
 *  9. liquid-counters: {% increment %} and {% decrement %} count within one @liquid only.
 *     liquidjs writes the counter into the render's scope, which Segment makes the event
 *     itself, so the event changes and later fields see the counter.
 * 10. liquid-utc-dates: @liquid's date filters read a zone-less ISO date-time as UTC and
 *     write UTC, whatever zone the process runs in. Segment uses its process's zone, so
 *     both agree where that is UTC; elsewhere transform() depends on the machine.
 */
import { MappingError } from '../../errors'
import { childPointer } from '../../json/json-pointer'
import { isRecord, realTypeOf } from './copy-value'
import { didYouMean } from './did-you-mean'
import {
  compileCaseDirective,
  compileJsonDirective,
  compileLiteralDirective,
  compilePathDirective,
  compileReplaceDirective,
  compileTemplateDirective
} from './directives-value'
import {
  compileArrayPathDirective,
  compileCoalesceDirective,
  compileExcludeWhenNullDirective,
  compileFlattenDirective,
  compileIfDirective,
  compileMergeDirective,
  compileTransformDirective,
  SEGMENT_ROOT_KEY
} from './directives-structure'
import { compileLiquidDirective } from './directive-liquid'
import { MappingEvalError, toEvalError } from './eval-error'
import { constantNode, type DirectiveCompiler, type KitNode, type Resolver } from './kit-node'

export { MappingEvalError } from './eval-error'
export type { Resolver } from './kit-node'

/** The differences from Segment's transform() listed at the top of this file, for the README and the tests. */
export const DELIBERATE_DIFFERENCES: ReadonlyArray<{ id: string; summary: string }> = Object.freeze([
  { id: 'if-falsy-else', summary: '@if returns a falsy "else" (false, 0, "", null); Segment returns nothing.' },
  {
    id: 'coalesce',
    summary: 'New @coalesce: the first value that is not undefined, null, or an empty/whitespace-only string. Segment has no such directive.'
  },
  {
    id: 'proto-keys',
    summary:
      'An own "__proto__" key in event data (or made by @json decode, @flatten, @merge) stays an own key; Segment turns it into the prototype of a result object or drops it.'
  },
  {
    id: 'prototype-reads',
    summary:
      'Paths never read the prototype chain: "__proto__"/"constructor"/"prototype" in a mapping path is a compile error (from event data: missing), and a step landing on a built-in function reads as undefined. Segment returns the function.'
  },
  {
    id: 'template-no-rescan',
    summary: 'Text substituted for {{{ path }}} is not scanned again for {{ path }}; Segment expands placeholders found in event data.'
  },
  {
    id: 'flatten-separator-directive',
    summary: 'An @flatten "separator" may be a directive anywhere; Segment\'s validator rejects it except inside arrays and @literal.'
  },
  {
    id: 'strict-compile',
    summary:
      'Mappings Segment accepts but misreads are compile errors: unknown directives or option keys, wrong option types, constant falsy @if conditions and @json values, "__proto__" mapping keys, @liquid templates that are too long, do not parse or use a disabled or unknown filter, and the like.'
  },
  {
    id: 'deep-nesting',
    summary: 'Event data nested 10 000 levels deep maps fine; Segment throws RangeError from about 3 000 levels (removeUndefined, @flatten, @excludeWhenNull).'
  },
  {
    id: 'liquid-counters',
    summary: '@liquid {% increment %}/{% decrement %} counters live within one template; Segment writes them into the event, where later fields see them.'
  },
  {
    id: 'liquid-utc-dates',
    summary: "@liquid date filters read a zone-less ISO date-time as UTC and write UTC in any time zone; Segment's transform() uses the process's zone."
  }
])

/** How deep directives and objects may nest inside one mapping value; real mappings stay below 10. */
export const MAX_MAPPING_DEPTH = 100

const DIRECTIVES: Readonly<Record<string, DirectiveCompiler>> = Object.freeze({
  '@path': compilePathDirective,
  '@template': compileTemplateDirective,
  '@if': compileIfDirective,
  '@case': compileCaseDirective,
  '@replace': compileReplaceDirective,
  '@arrayPath': compileArrayPathDirective,
  '@literal': compileLiteralDirective,
  '@json': compileJsonDirective,
  '@flatten': compileFlattenDirective,
  '@merge': compileMergeDirective,
  '@transform': compileTransformDirective,
  '@excludeWhenNull': compileExcludeWhenNullDirective,
  '@coalesce': compileCoalesceDirective,
  '@liquid': compileLiquidDirective
})

/** Every directive a mapping may use. */
const DIRECTIVE_NAMES: readonly string[] = Object.freeze(Object.keys(DIRECTIVES))

/** Compiles one mapping-kit value (a directive, or a plain JSON value/object/array possibly containing directives). */
export function compileValue(value: unknown, pointer: string): Resolver {
  const out = compileNode(value, pointer, 0, false).out
  return (payload) => {
    try {
      return out(payload)
    } catch (error) {
      throw toEvalError(error, pointer, 'mapping failed')
    }
  }
}

export type MappingKitOptions = {
  /**
   * The payload is JSON data (from JSON.parse: no undefined, no class instances) that nothing
   * changes afterwards. Values an @path reads straight from it are then shared with the result
   * instead of copied: the copy would equal them, and copying cost a replay 8-15% of its speed.
   */
  jsonPayload?: boolean
}

/** Compiles a whole mapping object ({field: value, ...}) the way transform() evaluates it, undefined fields removed. */
export function compileMappingKit(mapping: unknown, pointer: string, options: MappingKitOptions = {}): (payload: unknown) => Record<string, unknown> {
  if (!isPlainObject(mapping)) {
    throw new MappingError(pointer, `a mapping must be an object of fields ({"email": {"@path": "$.traits.email"}}); got ${kindOf(mapping)}`)
  }
  const directive = Object.keys(mapping).find((key) => key.startsWith('@'))
  if (directive !== undefined) {
    throw new MappingError(childPointer(pointer, directive), `a mapping must be an object of fields, not a ${directive} directive; put it under a field name`)
  }
  if (Object.keys(mapping).includes(SEGMENT_ROOT_KEY)) {
    throw new MappingError(childPointer(pointer, SEGMENT_ROOT_KEY), `"${SEGMENT_ROOT_KEY}" is internal to Segment and not supported`)
  }
  const fields = compileFields(mapping, pointer, 0, options.jsonPayload === true)
  const keys = fields.keys
  const outs = fields.nodes.map((node) => node.out)
  const pointers = keys.map((key) => childPointer(pointer, key))
  const count = keys.length
  return (payload) => {
    // transform(mapping, data = {}) checks the data before anything else.
    const data = payload === undefined ? {} : payload
    if (!isRecord(data)) throw new MappingEvalError(pointer, `data must be an object, got ${realTypeOf(data)}`)
    const result: Record<string, unknown> = {}
    let i = 0
    try {
      for (; i < count; i++) {
        const value = outs[i](data)
        if (value !== undefined) result[keys[i]] = value
      }
    } catch (error) {
      throw toEvalError(error, pointers[i], 'mapping failed')
    }
    return result
  }
}

/** `json`: the payload this value is resolved against is JSON data (MappingKitOptions.jsonPayload). */
function compileNode(value: unknown, pointer: string, depth: number, json: boolean): KitNode {
  if (depth > MAX_MAPPING_DEPTH) {
    throw new MappingError(pointer, `the mapping nests deeper than ${MAX_MAPPING_DEPTH} levels here; flatten it`)
  }
  switch (typeof value) {
    case 'undefined':
    case 'string':
    case 'number':
    case 'boolean':
      return constantNode(value)
    case 'object':
      if (value === null) return constantNode(null)
      if (Array.isArray(value)) return compileArray(value, pointer, depth, json)
      if (isPlainObject(value)) {
        const directive = Object.keys(value).find((key) => key.startsWith('@'))
        return directive === undefined ? compileObject(value, pointer, depth, json) : compileDirective(value, directive, pointer, depth, json)
      }
  }
  throw new MappingError(pointer, `${kindOf(value)} is not a JSON value and cannot be part of a mapping`)
}

function compileDirective(value: Record<string, unknown>, name: string, pointer: string, depth: number, json: boolean): KitNode {
  for (const key of Object.keys(value)) {
    if (key !== name && key.startsWith('@')) {
      throw new MappingError(childPointer(pointer, key), `a directive object has exactly one @-key, but ${name} and ${key} share this one; split them`)
    }
    if (key !== name && key !== '_metadata') {
      throw new MappingError(
        childPointer(pointer, key),
        `"${key}" cannot sit next to ${name}: a directive object holds only its @-key (and optionally "_metadata"); move "${key}" to the enclosing object`
      )
    }
  }
  const at = childPointer(pointer, name)
  const compileDirectiveFn = Object.hasOwn(DIRECTIVES, name) ? DIRECTIVES[name] : undefined
  if (compileDirectiveFn === undefined) {
    throw new MappingError(at, `unknown directive ${name}${didYouMean(name, DIRECTIVE_NAMES)}; the directives are ${DIRECTIVE_NAMES.join(', ')}`)
  }
  // A payload the directive makes itself (an @arrayPath item, an @transform result) is not known to be JSON.
  const compile = (operand: unknown, operandPointer: string, ownPayload?: true): KitNode =>
    compileNode(operand, operandPointer, depth + 1, json && ownPayload !== true)
  return compileDirectiveFn(value[name], at, compile, json)
}

function compileArray(items: readonly unknown[], pointer: string, depth: number, json: boolean): KitNode {
  const nodes = items.map((item, i) => compileNode(item, childPointer(pointer, i), depth + 1, json))
  const raws = nodes.map((node) => node.raw)
  const outs = nodes.map((node) => node.out)
  const build =
    (resolvers: Resolver[]): Resolver =>
    (payload) => {
      const result: unknown[] = []
      for (let i = 0; i < resolvers.length; i++) result.push(resolvers[i](payload))
      return result
    }
  return { raw: build(raws), out: build(outs) }
}

function compileFields(value: Record<string, unknown>, pointer: string, depth: number, json: boolean): { keys: string[]; nodes: KitNode[] } {
  const keys = Object.keys(value)
  const nodes = keys.map((key) => {
    if (key === '__proto__') {
      throw new MappingError(childPointer(pointer, key), 'a mapping key may not be "__proto__" (Segment would set the result\'s prototype instead); rename it')
    }
    return compileNode(value[key], childPointer(pointer, key), depth + 1, json)
  })
  return { keys, nodes }
}

function compileObject(value: Record<string, unknown>, pointer: string, depth: number, json: boolean): KitNode {
  const { keys, nodes } = compileFields(value, pointer, depth, json)
  const raws = nodes.map((node) => node.raw)
  const outs = nodes.map((node) => node.out)
  // "__proto__" keys were refused above, so plain assignment cannot reach a setter.
  return {
    raw: (payload) => {
      const result: Record<string, unknown> = {}
      for (let i = 0; i < keys.length; i++) result[keys[i]] = raws[i](payload)
      return result
    },
    out: (payload) => {
      const result: Record<string, unknown> = {}
      for (let i = 0; i < keys.length; i++) {
        const item = outs[i](payload)
        if (item !== undefined) result[keys[i]] = item
      }
      return result
    }
  }
}

/** Mapping files are JSON: only objects with the plain (or no) prototype count as objects. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return `an object of type ${realTypeOf(value)}`
  return `a ${typeof value}`
}
