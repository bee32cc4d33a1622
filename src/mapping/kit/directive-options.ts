/**
 * Compile-time checks of directive operands. Segment's validate.js ignores option keys it
 * does not know and reads a misspelt one as absent (`{"@if": {"exist": ...}}` fails on
 * every event; `{"@if": {..., "thn": 1}}` silently yields nothing), so here every option
 * key must be known, and each error points at the offending key.
 */
import { MappingError } from '../../errors'
import { childPointer } from '../../json/json-pointer'
import { isRecord } from './copy-value'
import { didYouMean } from './did-you-mean'

/** True for an object Segment's validator treats as a directive: any key starting with "@". */
export function isDirectiveShaped(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && Object.keys(value).some((key) => key.startsWith('@'))
}

/** True for a plain object that is not a directive. */
function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && !isDirectiveShaped(value)
}

/** A short description of a mapping value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') return value.length > 40 ? `the string ${JSON.stringify(value.slice(0, 40))}...` : `the string ${JSON.stringify(value)}`
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  if (Array.isArray(value)) return 'an array'
  if (isDirectiveShaped(value)) return `a ${Object.keys(value).find((key) => key.startsWith('@'))} directive`
  if (isRecord(value)) return 'an object'
  return `a ${typeof value}`
}

/**
 * Returns the operand of `directive` as an options object after checking it is a plain
 * object whose keys are all in `allowed` and that has every key in `required`
 * (an option whose value is undefined counts as absent, as in Segment).
 */
export function readOptions(
  operand: unknown,
  pointer: string,
  directive: string,
  allowed: readonly string[],
  required: readonly string[] = []
): Record<string, unknown> {
  const shape = `{ ${allowed.map((key) => `"${key}"`).join(', ')} }`
  if (!isPlainMapping(operand)) {
    throw new MappingError(pointer, `${directive} takes an options object ${shape}; got ${describeValue(operand)}`)
  }
  for (const key of Object.keys(operand)) {
    if (!allowed.includes(key)) {
      throw new MappingError(
        childPointer(pointer, key),
        `unknown ${directive} option "${key}"${didYouMean(key, allowed)}; the options are ${allowed.join(', ')}`
      )
    }
  }
  for (const key of required) {
    if (operand[key] === undefined) throw new MappingError(pointer, `${directive} is missing its "${key}" option`)
  }
  return operand
}

/** Checks an optional string option's length; returns it, or undefined when absent. */
export function readString(
  options: Record<string, unknown>,
  key: string,
  pointer: string,
  directive: string,
  length: { min: number; max: number }
): string | undefined {
  const value = options[key]
  if (value === undefined) return undefined
  const at = childPointer(pointer, key)
  const wanted = length.min === 0 ? `a string of at most ${length.max} characters` : `a string of ${length.min} to ${length.max} characters`
  if (typeof value !== 'string') throw new MappingError(at, `${directive} "${key}" must be ${wanted}; got ${describeValue(value)}`)
  if (value.length < length.min || value.length > length.max) {
    throw new MappingError(at, `${directive} "${key}" must be ${wanted}; ${JSON.stringify(value)} has ${value.length}`)
  }
  return value
}

/** Checks an optional boolean option; returns it, or undefined when absent. */
export function readBoolean(options: Record<string, unknown>, key: string, pointer: string, directive: string): boolean | undefined {
  const value = options[key]
  if (value === undefined || typeof value === 'boolean') return value
  throw new MappingError(childPointer(pointer, key), `${directive} "${key}" must be true or false; got ${describeValue(value)}`)
}

/** Checks that an option is exactly one of `choices` (Segment compares them case-sensitively at run time). */
export function readChoice<T extends string>(
  options: Record<string, unknown>,
  key: string,
  pointer: string,
  directive: string,
  choices: readonly T[]
): T {
  const value = options[key]
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T
  throw new MappingError(
    childPointer(pointer, key),
    `${directive} "${key}" must be ${choices.map((choice) => JSON.stringify(choice)).join(' or ')} (lower case); got ${describeValue(value)}`
  )
}

/** Checks that an operand is a string or a directive (Segment's validateDirectiveOrString). */
export function assertStringOrDirective(value: unknown, at: string, what: string): void {
  if (typeof value !== 'string' && !isDirectiveShaped(value)) {
    throw new MappingError(at, `${what} must be a string or a directive; got ${describeValue(value)}`)
  }
}

/** Checks that an operand is a plain object or a directive (Segment's validateDirectiveOrObject). */
export function assertObjectOrDirective(value: unknown, at: string, what: string): void {
  if (!isRecord(value)) throw new MappingError(at, `${what} must be an object or a directive; got ${describeValue(value)}`)
}
