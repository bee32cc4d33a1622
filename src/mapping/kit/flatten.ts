/**
 * Segment's flattenObject() as a loop: the recursive original overflows the stack on
 * deeply nested events, and its spread-per-level is quadratic.
 */
import { NestingTooDeepError } from './eval-error'
import { isRecord, MAX_DATA_DEPTH, setOwn } from './copy-value'

/**
 * Flattens `input` like Segment's flattenObject(input, '', separator, omitArrays): plain
 * objects (and arrays unless `omitArrays`) are walked, other values become leaves keyed by
 * their joined path; a non-container input gives { "": input }. Leaves are not copied and
 * may be undefined, exactly as in Segment (the caller removes undefined keys afterwards).
 */
export function flattenValue(input: unknown, separator: string, omitArrays: boolean): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  // Pre-order, children pushed in reverse so they pop in key order: later leaves overwrite
  // earlier ones with the same key, keeping the first one's position, as `{...acc, ...sub}` does.
  const stack: Array<{ value: unknown; prefix: string; depth: number }> = [{ value: input, prefix: '', depth: 0 }]
  while (stack.length > 0) {
    const { value, prefix, depth } = stack.pop() as (typeof stack)[number]
    if (isRecord(value) || (!omitArrays && Array.isArray(value))) {
      if (depth >= MAX_DATA_DEPTH) throw new NestingTooDeepError(MAX_DATA_DEPTH)
      const container = value as Record<string, unknown>
      const keys = Object.keys(container)
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]
        // `prefix ? ... : key` on purpose: an empty key at the top restarts the prefix, as in Segment.
        stack.push({ value: container[key], prefix: prefix ? `${prefix}${separator}${key}` : key, depth: depth + 1 })
      }
    } else {
      setOwn(result, prefix, value)
    }
  }
  return result
}
