/**
 * Turns a subscription's `subscribe` FQL into a predicate, once per mapping load.
 *
 * Semantics are Segment's: the IR comes from `parseFql` of @segment/destination-subscriptions
 * and the predicate answers exactly what its `validate(ir, event)` answers. We do not call
 * `validate` per event because it re-splits every path with a regex and re-stringifies
 * every expected value on each call (about 650 ns per event for a 5-clause subscription,
 * against about 120 ns compiled; compiling costs about 100 µs, once); the evaluator below is a line-by-line copy of validate.js/get.js
 * with those two things hoisted, and the tests check it against `validate` itself.
 */
import { generateFql, parseFql } from '@segment/destination-subscriptions'
import type { Condition, GroupCondition, Operator } from '@segment/destination-subscriptions'
import { AdapterError, MappingError } from '../errors'
import { lintFql } from './fql-lint'

export type EventPredicate = (event: Record<string, unknown>) => boolean

/** Parses and lints an FQL `subscribe` string once; throws MappingError at `pointer` when it is invalid or would be mis-read. */
export function compileSubscription(fql: string, pointer: string): EventPredicate {
  if (typeof fql !== 'string') {
    throw new MappingError(pointer, `must be an FQL string such as \`type = "track"\`, got ${fql === null ? 'null' : typeof fql}`)
  }
  const linted = lintFql(fql)
  if (!linted.ok) throw new MappingError(pointer, `FQL ${linted.problem}`)

  const parsed = parseFql(fql)
  if ('error' in parsed) {
    throw new MappingError(pointer, `FQL \`${fql}\` is rejected by Segment's parser: ${parsed.error.message}`)
  }
  // The lint's grammar should only admit text parseFql reads as written; this guards
  // against a parseFql version that reads something differently all the same.
  if (canonical(parsed) !== canonical(linted.meaning)) {
    throw new MappingError(
      pointer,
      `FQL \`${fql}\` would be read by Segment's parser as \`${describe(parsed)}\`, which is not what it says; rewrite it`
    )
  }

  const test = compileGroup(parsed)
  // validate() answers false for an undefined event rather than throwing.
  return (event) => event !== undefined && test(event)
}

type Test = (event: Record<string, unknown>) => boolean
type Check = (actual: unknown) => boolean

function compileGroup(group: GroupCondition): Test {
  const children = group.children.map(compileCondition)
  if (group.operator === 'and') {
    return (event) => {
      for (const child of children) if (!child(event)) return false
      return true
    }
  }
  if (group.operator === 'or') {
    return (event) => {
      for (const child of children) if (child(event)) return true
      return false
    }
  }
  return () => false
}

/** The event field each condition type reads: directly, or (path conditions) below it by the condition's name. */
const TEXT_FIELDS: Readonly<Record<string, string>> = { 'event-type': 'type', event: 'event', name: 'name', userId: 'userId' }
const PATH_FIELDS: Readonly<Record<string, string>> = { 'event-property': 'properties', 'event-trait': 'traits', 'event-context': 'context' }

function compileCondition(condition: Condition): Test {
  if (condition.type === 'group') return compileGroup(condition)
  const text = Object.hasOwn(TEXT_FIELDS, condition.type) ? TEXT_FIELDS[condition.type] : undefined
  const root = Object.hasOwn(PATH_FIELDS, condition.type) ? PATH_FIELDS[condition.type] : undefined
  if (text === undefined && root === undefined) return () => false
  const check = compileCheck(condition.operator, condition.value)
  if (text !== undefined) return (event) => check(event[text])
  const read = compileFqlPath((condition as { name: string }).name)
  return (event) => check(read(event[root!]))
}

/** get.js with the path split once: `a && a[key]` down the path, so a falsy step is returned as is. */
function compileFqlPath(name: string): (root: unknown) => unknown {
  if (!name) return () => undefined
  const path = name.match(/([^[.\]])+/g)
  if (path === null) {
    // get.js would throw on every event; the lint never lets such a name through.
    throw new AdapterError('INTERNAL', `unusable FQL path ${JSON.stringify(name)}`)
  }
  return (root) => {
    let value = root
    for (const key of path) value = value && (value as Record<string, unknown>)[key]
    return value
  }
}

/** validateValue from validate.js, with String()/Number() of the expected value taken once. */
function compileCheck(operator: Operator, expected: unknown): Check {
  const text = String(expected)
  const number = Number(expected)
  // For a number, Number(actual) is actual itself, so the typeof guard makes it redundant.
  switch (operator) {
    case '=':
      return (actual) => actual === text
    case 'number_equals':
      return (actual) => typeof actual === 'number' && actual === number
    case '!=':
      return (actual) => actual !== text
    case 'number_not_equals':
      return (actual) => typeof actual === 'number' && actual !== number
    case '<':
      return (actual) => typeof actual === 'number' && actual < number
    case '<=':
      return (actual) => typeof actual === 'number' && actual <= number
    case '>':
      return (actual) => typeof actual === 'number' && actual > number
    case '>=':
      return (actual) => typeof actual === 'number' && actual >= number
    case 'contains':
      return (actual) => typeof actual === 'string' && actual.includes(text)
    case 'not_contains':
      return (actual) => typeof actual === 'string' && !actual.includes(text)
    case 'starts_with':
      return (actual) => typeof actual === 'string' && actual.startsWith(text)
    case 'not_starts_with':
      return (actual) => typeof actual === 'string' && !actual.startsWith(text)
    case 'ends_with':
      return (actual) => typeof actual === 'string' && actual.endsWith(text)
    case 'not_ends_with':
      return (actual) => typeof actual === 'string' && !actual.endsWith(text)
    case 'exists':
      return (actual) => actual !== undefined && actual !== null
    case 'not_exists':
      return (actual) => actual === undefined || actual === null
    case 'is_true':
      return (actual) => actual === true
    case 'is_false':
      return (actual) => actual === false
    default:
      return () => false
  }
}

// Operators whose `value` validate() ignores; parseFql leaves the next token's text there.
const VALUELESS = new Set(['exists', 'not_exists', 'is_true', 'is_false'])

/** A stable text of an IR, ignoring what validate() ignores, to compare two IRs. */
function canonical(node: unknown): string {
  return JSON.stringify(node, (key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>
      const sorted: Record<string, unknown> = {}
      for (const k of Object.keys(record).sort()) {
        if (k === 'value' && VALUELESS.has(String(record.operator))) continue
        sorted[k] = record[k]
      }
      return sorted
    }
    return value
  })
}

function describe(ir: GroupCondition): string {
  try {
    return generateFql(ir)
  } catch {
    return JSON.stringify(ir)
  }
}
