import { isJsonObject } from '../json/json-object'

/*
 * Small predicates for plain-function mirrors of zod schemas (conforms-to-spec.ts,
 * koala/entry-conforms.ts): built once, they check a decoded JSON value without
 * copying it, where zod's loose objects copy everything they accept.
 */

/** True when the value passes. */
export type Check = (value: unknown) => boolean

export const optional = (check: Check): Check => (value) => value === undefined || check(value)
export const isString: Check = (value) => typeof value === 'string'
export const isNonEmptyString: Check = (value) => typeof value === 'string' && value.length > 0
export const isBoolean: Check = (value) => typeof value === 'boolean'
/** As zod's z.number(): NaN and ±Infinity are refused. */
export const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value)
export const literal = (expected: string): Check => (value) => value === expected

/** A JSON object whose listed fields each pass their check (other fields pass: the zod objects are loose). */
export const object = (fields: ReadonlyArray<readonly [string, Check]>): Check => (value) => {
  if (!isJsonObject(value)) return false
  for (const [key, check] of fields) if (!check(value[key])) return false
  return true
}
