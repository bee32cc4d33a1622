/**
 * Reads the shape of a JSON body off its bytes without building any value, so a door
 * can authenticate a request before it pays for parsing it: where the first element
 * of an Actions batch lies (its signature covers only that element), and the
 * top-level "writeKey" of a Tracking API body. Strings, escapes and nesting are
 * tracked; everything else is skipped. The bytes may be a prefix of the body (an
 * inflation stopped early): what has not arrived yet is reported as `incomplete`.
 */
import { CLOSE_ARRAY, COMMA, decodeString, forEachTopLevelKey, INCOMPLETE, OPEN_ARRAY, QUOTE, skipSpace, valueEnd } from './json-bytes'

/** What the start of a body says about its first array element. */
export type FirstElement =
  | { kind: 'element'; start: number; end: number; /** another element follows it */ more: boolean }
  | { kind: 'not-array' }
  | { kind: 'empty-array' }
  | { kind: 'incomplete' }

/** Where the first element of a top-level JSON array lies in `bytes` (the body, or a prefix of it). */
export function firstElement(bytes: Uint8Array): FirstElement {
  const open = skipSpace(bytes, 0)
  if (open >= bytes.length) return { kind: 'incomplete' }
  if (bytes[open] !== OPEN_ARRAY) return { kind: 'not-array' }
  const start = skipSpace(bytes, open + 1)
  if (start >= bytes.length) return { kind: 'incomplete' }
  if (bytes[start] === CLOSE_ARRAY) return { kind: 'empty-array' }
  const end = valueEnd(bytes, start)
  if (end === INCOMPLETE) return { kind: 'incomplete' }
  const next = skipSpace(bytes, end)
  if (next >= bytes.length) return { kind: 'incomplete' }
  return { kind: 'element', start, end, more: bytes[next] === COMMA }
}

/**
 * The string value of a top-level key of a JSON object body (the last one, as
 * JSON.parse keeps), or undefined when the body is not an object, lacks the key, or
 * holds something else under it. Values longer than `maxValueBytes` count as absent.
 */
export function topLevelString(bytes: Uint8Array, key: string, maxValueBytes: number): string | undefined {
  let found: string | undefined
  const whole = forEachTopLevelKey(bytes, (isKey, valueStart) => {
    if (!isKey(key)) return undefined
    const end = valueEnd(bytes, valueStart)
    if (end !== INCOMPLETE) found = bytes[valueStart] === QUOTE && end - valueStart <= maxValueBytes ? decodeString(bytes, valueStart, end) : undefined
    return end
  })
  return whole ? found : undefined
}
