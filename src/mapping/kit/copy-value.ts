/**
 * Copies of event data with Segment's value semantics (removeUndefined, cleanNulls,
 * Object.assign sources) that never overflow the stack: event data can nest thousands of
 * levels deep, and Segment's recursive versions overflow at about 3 000, so deep data is
 * walked with loops over an explicit stack. Every key is written with setOwn so an own "__proto__" key in the data stays a
 * key and never becomes a result's prototype.
 */
import { NestingTooDeepError } from './eval-error'

/** Deepest nesting the walkers follow; far beyond real events, low enough to stop on cyclic data. */
export const MAX_DATA_DEPTH = 100_000

const objectToString = Object.prototype.toString

/** Segment's realTypeOf: the lower-cased [[Class]] tag ("object", "array", "null", "string", ...). */
export function realTypeOf(value: unknown): string {
  return objectToString.call(value).slice(8, -1).toLowerCase()
}

/** True exactly when Segment's isObject() is: realTypeOf(value) === "object". */
export function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  // The prototype test is a fast path for plain and JSON-parsed objects; the tag test is the definition.
  return proto === Object.prototype || proto === null || objectToString.call(value) === '[object Object]'
}

/** Writes `target[key] = value` as an own data property, even when `key` is "__proto__". */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
  } else {
    target[key] = value
  }
}

type Frame = { source: unknown; target: Record<string, unknown> | unknown[]; depth: number }

/** Below this depth removeUndefinedDeep recurses (fast); deeper subtrees go to the explicit-stack loop. */
const RECURSION_DEPTH = 200

/**
 * Segment's removeUndefined(): a fresh deep copy of arrays and plain objects, with
 * undefined-valued object keys dropped (undefined array items are kept). Other values,
 * including Dates and class instances that are not "object"-tagged, are returned as is.
 */
export function removeUndefinedDeep(value: unknown): unknown {
  return copyShallowLevels(value, 0)
}

// Recursion is several times faster than an explicit stack for the few levels real events have.
function copyShallowLevels(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (depth >= RECURSION_DEPTH) return copyWithLoop(value, depth)
  if (Array.isArray(value)) {
    const copy: unknown[] = []
    for (let i = 0; i < value.length; i++) copy.push(copyShallowLevels(value[i], depth + 1))
    return copy
  }
  if (!isRecord(value)) return value
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const child = value[key]
    if (child !== undefined) setOwn(copy, key, copyShallowLevels(child, depth + 1))
  }
  return copy
}

function copyWithLoop(value: object, startDepth: number): unknown {
  const root = emptyCopyOf(value)
  if (root === undefined) return value
  const stack: Frame[] = [{ source: value, target: root, depth: startDepth + 1 }]
  while (stack.length > 0) {
    const { source, target, depth } = stack.pop() as Frame
    if (depth > MAX_DATA_DEPTH) throw new NestingTooDeepError(MAX_DATA_DEPTH)
    if (Array.isArray(target)) {
      const items = source as unknown[]
      for (let i = 0; i < items.length; i++) {
        target.push(copyChild(items[i], stack, depth))
      }
    } else {
      const record = source as Record<string, unknown>
      for (const key of Object.keys(record)) {
        const child = record[key]
        if (child !== undefined) setOwn(target, key, copyChild(child, stack, depth))
      }
    }
  }
  return root
}

function emptyCopyOf(value: object): Record<string, unknown> | unknown[] | undefined {
  if (Array.isArray(value)) return []
  return isRecord(value) ? {} : undefined
}

/** Returns the copy to store for `child`: primitives as is, containers as empty shells filled later. */
function copyChild(child: unknown, stack: Frame[], depth: number): unknown {
  if (typeof child !== 'object' || child === null) return child
  const shell = emptyCopyOf(child)
  if (shell === undefined) return child
  stack.push({ source: child, target: shell, depth: depth + 1 })
  return shell
}

/**
 * Segment's cleanNulls() (the heart of @excludeWhenNull): a copy of a plain object in which
 * null-valued keys become undefined, recursing into nested plain objects only (arrays, and
 * objects inside arrays, are kept as they are). Non-objects are returned unchanged.
 */
export function nullsToUndefined(value: unknown): unknown {
  if (!isRecord(value)) return value
  const root: Record<string, unknown> = {}
  const stack: Array<{ source: Record<string, unknown>; target: Record<string, unknown>; depth: number }> = [
    { source: value, target: root, depth: 1 }
  ]
  while (stack.length > 0) {
    const { source, target, depth } = stack.pop() as (typeof stack)[number]
    if (depth > MAX_DATA_DEPTH) throw new NestingTooDeepError(MAX_DATA_DEPTH)
    for (const key of Object.keys(source)) {
      const child = source[key]
      if (child === null) {
        setOwn(target, key, undefined)
      } else if (isRecord(child)) {
        const copy: Record<string, unknown> = {}
        setOwn(target, key, copy)
        stack.push({ source: child, target: copy, depth: depth + 1 })
      } else {
        setOwn(target, key, child)
      }
    }
  }
  return root
}

/**
 * Copies the own enumerable properties of `source` into `target` the way Object.assign
 * does (strings give their characters, numbers and booleans nothing, null and undefined
 * are skipped), but with setOwn so "__proto__" stays a key.
 */
export function assignOwn(target: Record<string, unknown>, source: unknown): void {
  if (source === null || source === undefined) return
  const from = Object(source) as Record<string, unknown>
  for (const key of Object.keys(from)) setOwn(target, key, from[key])
}
