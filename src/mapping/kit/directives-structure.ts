/**
 * Directives that choose between or reshape values: @if, @coalesce, @arrayPath, @merge,
 * @flatten, @transform, @excludeWhenNull.
 */
import { MappingError } from '../../errors'
import { childPointer } from '../../json/json-pointer'
import { compilePath } from './compile-path'
import { assignOwn, isRecord, nullsToUndefined, realTypeOf, removeUndefinedDeep } from './copy-value'
import {
  assertObjectOrDirective,
  assertStringOrDirective,
  describeValue,
  isDirectiveShaped,
  readBoolean,
  readChoice,
  readOptions
} from './directive-options'
import { MappingEvalError, toEvalError } from './eval-error'
import { flattenValue } from './flatten'
import { nodeFromRaw, outOf, type DirectiveCompiler, type Resolver } from './kit-node'

/**
 * A key transform() treats specially (its value becomes the root directive, the other fields
 * that directive's "mapping"): internal to Segment, and refused here.
 */
export const SEGMENT_ROOT_KEY = '__segment_internal_directive'

const nothing: Resolver = () => undefined

/** `value != ''` as Segment's @if "blank" writes it; loose equality can call a toString the data supplied. */
function looseEqualsEmpty(value: unknown, pointer: string): boolean {
  if (typeof value !== 'object' || value === null) return value == ''
  try {
    // The cast only silences TypeScript: comparing an object with '' loosely is the point.
    return (value as unknown as string) == ''
  } catch (error) {
    throw toEvalError(error, pointer, '@if could not compare the "blank" value with ""')
  }
}

/**
 * {"@if": {"exists" | "blank": ..., "then": ..., "else": ...}}. A falsy constant "else" is
 * returned (DELIBERATE_DIFFERENCES "if-falsy-else"); Segment ignores it.
 */
export const compileIfDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const options = readOptions(operand, pointer, '@if', ['exists', 'blank', 'then', 'else'])
  const hasExists = options.exists !== undefined
  const hasBlank = options.blank !== undefined
  if (hasExists && hasBlank) {
    throw new MappingError(childPointer(pointer, 'blank'), '@if takes either "exists" or "blank", not both')
  }
  if (!hasExists && !hasBlank) throw new MappingError(pointer, '@if needs an "exists" or a "blank" condition')
  const conditionKey = hasExists ? 'exists' : 'blank'
  const conditionValue = options[conditionKey]
  if (!conditionValue) {
    throw new MappingError(
      childPointer(pointer, conditionKey),
      `@if "${conditionKey}" is ${describeValue(conditionValue)}; Segment treats a falsy condition as missing and fails every event; ` +
        'use a path such as {"@path": "$.traits.email"}'
    )
  }
  if (options.then === undefined && options.else === undefined) {
    throw new MappingError(pointer, '@if needs "then" and/or "else"; without them it always yields nothing')
  }
  const condition = compile(conditionValue, childPointer(pointer, conditionKey)).raw
  const holds: (payload: unknown) => boolean = hasExists
    ? (payload) => {
        const value = condition(payload)
        return value !== undefined && value !== null
      }
    : (payload) => {
        const value = condition(payload)
        return value !== undefined && value !== null && !looseEqualsEmpty(value, pointer)
      }
  const then = options.then === undefined ? undefined : compile(options.then, childPointer(pointer, 'then'))
  const otherwise = options.else === undefined ? undefined : compile(options.else, childPointer(pointer, 'else'))
  const thenRaw = then?.raw ?? nothing
  const thenOut = then?.out ?? nothing
  const elseRaw = otherwise?.raw ?? nothing
  const elseOut = otherwise?.out ?? nothing
  return {
    raw: (payload) => (holds(payload) ? thenRaw(payload) : elseRaw(payload)),
    out: (payload) => (holds(payload) ? thenOut(payload) : elseOut(payload))
  }
}

/** True for what @coalesce skips: undefined, null, and empty or whitespace-only strings. */
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '')
}

/** {"@coalesce": [a, b, ...]}: the first value that is present (ours; DELIBERATE_DIFFERENCES "coalesce"). */
export const compileCoalesceDirective: DirectiveCompiler = (operand, pointer, compile) => {
  if (!Array.isArray(operand) || operand.length === 0) {
    throw new MappingError(pointer, `@coalesce takes a non-empty array of values to try in order; got ${describeValue(operand)}`)
  }
  const choices = operand.map((value, i) => compile(value, childPointer(pointer, i)).raw)
  const raw: Resolver = (payload) => {
    for (const choice of choices) {
      const value = choice(payload)
      if (!isAbsent(value)) return value
    }
    return undefined
  }
  return nodeFromRaw(raw)
}

/**
 * {"@arrayPath": [path, itemShape]}: a string path is read like @path, a directive is the
 * root itself. With an item shape, each item of an array root (or an object root, as a
 * one-item array) becomes the payload the shape is resolved against.
 */
export const compileArrayPathDirective: DirectiveCompiler = (operand, pointer, compile) => {
  if (!Array.isArray(operand) || operand.length < 1 || operand.length > 2) {
    throw new MappingError(pointer, `@arrayPath takes [path, itemShape] (the shape is optional); got ${describeValue(operand)}`)
  }
  const [path, shape] = operand as unknown[]
  const pathPointer = childPointer(pointer, 0)
  assertStringOrDirective(path, pathPointer, '@arrayPath path')
  let root: Resolver
  if (typeof path === 'string') {
    root = compilePath(path, pathPointer)
  } else {
    root = compile(path, pathPointer).raw
  }
  if (shape === undefined) return { raw: root, out: (payload) => outOf(root(payload)) }
  // Segment ignores a shape that is not a non-empty object; that is always a mistake in a mapping.
  if (!isRecord(shape) || Object.keys(shape).length === 0) {
    throw new MappingError(childPointer(pointer, 1), `@arrayPath item shape must be a non-empty object or a directive; got ${describeValue(shape)}`)
  }
  const item = compile(shape, childPointer(pointer, 1), true)
  const overItems =
    (each: Resolver, otherwise: Resolver): Resolver =>
    (payload) => {
      const value = root(payload)
      if (Array.isArray(value)) {
        const mapped: unknown[] = []
        for (let i = 0; i < value.length; i++) mapped.push(each(value[i]))
        return mapped
      }
      return isRecord(value) ? [each(value)] : otherwise(value)
    }
  return { raw: overItems(item.raw, (value) => value), out: overItems(item.out, outOf) }
}

/** {"@merge": {"objects": [...], "direction": "left" | "right"}}: "right" lets later objects win. */
export const compileMergeDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const options = readOptions(operand, pointer, '@merge', ['objects', 'direction'], ['objects', 'direction'])
  const direction = readChoice(options, 'direction', pointer, '@merge', ['left', 'right'])
  const objectsPointer = childPointer(pointer, 'objects')
  if (!Array.isArray(options.objects)) {
    throw new MappingError(objectsPointer, `@merge "objects" must be an array of objects or directives; got ${describeValue(options.objects)}`)
  }
  const objects = options.objects.map((value: unknown, i: number) => {
    assertObjectOrDirective(value, childPointer(objectsPointer, i), 'each @merge object')
    return compile(value, childPointer(objectsPointer, i)).raw
  })
  const raw: Resolver = (payload) => {
    // Every object is resolved first, in order, then assigned: the order errors would surface in.
    const values = objects.map((resolve) => resolve(payload))
    if (direction === 'left') values.reverse()
    const merged: Record<string, unknown> = {}
    for (const value of values) assignOwn(merged, value)
    return merged
  }
  return { raw, out: (payload) => removeUndefinedDeep(raw(payload)) }
}

/** {"@flatten": {"value": ..., "separator": ".", "omitArrays": false}}. */
export const compileFlattenDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const options = readOptions(operand, pointer, '@flatten', ['value', 'separator', 'omitArrays'], ['value', 'separator'])
  const separatorPointer = childPointer(pointer, 'separator')
  assertStringOrDirective(options.separator, separatorPointer, '@flatten "separator"')
  if (options.separator === '') {
    throw new MappingError(separatorPointer, '@flatten "separator" must not be empty; Segment fails every event without one')
  }
  const omitArrays = readBoolean(options, 'omitArrays', pointer, '@flatten') ?? false
  let separator: Resolver
  if (typeof options.separator === 'string') {
    const constant = options.separator
    separator = () => constant
  } else {
    const inner = compile(options.separator, separatorPointer).raw
    separator = (payload) => {
      const value = inner(payload)
      if (typeof value !== 'string') {
        throw new MappingEvalError(pointer, `@flatten requires a string separator; the directive gave ${realTypeOf(value)}`)
      }
      return value
    }
  }
  const value = compile(options.value, childPointer(pointer, 'value')).raw
  const raw: Resolver = (payload) => {
    const by = separator(payload) as string
    const data = value(payload)
    try {
      return flattenValue(data, by, omitArrays)
    } catch (error) {
      throw toEvalError(error, pointer, '@flatten failed')
    }
  }
  return { raw, out: (payload) => removeUndefinedDeep(raw(payload)) }
}

/** {"@transform": {"apply": {...}, "mapping": {...}}}: `mapping` reads the result of `apply`. */
export const compileTransformDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const options = readOptions(operand, pointer, '@transform', ['apply', 'mapping'], ['apply', 'mapping'])
  const applyPointer = childPointer(pointer, 'apply')
  assertObjectOrDirective(options.apply, applyPointer, '@transform "apply"')
  assertObjectOrDirective(options.mapping, childPointer(pointer, 'mapping'), '@transform "mapping"')
  if (!isDirectiveShaped(options.apply) && Object.keys(options.apply as object).includes(SEGMENT_ROOT_KEY)) {
    throw new MappingError(childPointer(applyPointer, SEGMENT_ROOT_KEY), `"${SEGMENT_ROOT_KEY}" is internal to Segment and not supported`)
  }
  const apply = compile(options.apply, applyPointer).out
  const mapping = compile(options.mapping, childPointer(pointer, 'mapping'), true)
  // apply runs through a nested transform(): it needs object data (undefined defaults to {}) and is cleaned.
  const applied = (payload: unknown): unknown => {
    const data = payload === undefined ? {} : payload
    if (!isRecord(data)) throw new MappingEvalError(pointer, `@transform: data must be an object, got ${realTypeOf(data)}`)
    return apply(data)
  }
  return {
    raw: (payload) => mapping.raw(applied(payload)),
    out: (payload) => mapping.out(applied(payload))
  }
}

/** {"@excludeWhenNull": value}: null becomes nothing, and null-valued keys of (nested) objects are dropped. */
export const compileExcludeWhenNullDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const value = compile(operand, pointer).raw
  const raw: Resolver = (payload) => {
    const data = value(payload)
    if (data === null) return undefined
    try {
      return nullsToUndefined(data)
    } catch (error) {
      throw toEvalError(error, pointer, '@excludeWhenNull failed')
    }
  }
  return nodeFromRaw(raw)
}
