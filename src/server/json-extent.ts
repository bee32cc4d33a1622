/**
 * Reads the shape of a JSON body off its bytes without building any value, so a door
 * can authenticate a request before it pays for parsing it: where the first element
 * of an Actions batch lies (its signature covers only that element), and the
 * top-level "writeKey" of a Tracking API body. Strings, escapes and nesting are
 * tracked; everything else is skipped. The bytes may be a prefix of the body (an
 * inflation stopped early): what has not arrived yet is reported as `incomplete`.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const INCOMPLETE = -1

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
  let i = skipSpace(bytes, 0)
  if (bytes[i] !== OPEN_OBJECT) return undefined
  let found: string | undefined
  i = skipSpace(bytes, i + 1)
  while (bytes[i] === QUOTE) {
    const keyEnd = stringEnd(bytes, i)
    if (keyEnd === INCOMPLETE) return undefined
    const isKey = stringIs(bytes, i, keyEnd, key)
    i = skipSpace(bytes, keyEnd)
    if (bytes[i] !== COLON) return undefined
    i = skipSpace(bytes, i + 1)
    const valueStart = i
    i = valueEnd(bytes, i)
    if (i === INCOMPLETE) return undefined
    if (isKey) {
      found = bytes[valueStart] === QUOTE && i - valueStart <= maxValueBytes ? decodeString(bytes, valueStart, i) : undefined
    }
    i = skipSpace(bytes, i)
    if (bytes[i] !== COMMA) break
    i = skipSpace(bytes, i + 1)
  }
  return found
}

/** The index just after the JSON value starting at `start`, or INCOMPLETE when the bytes end first. */
function valueEnd(bytes: Uint8Array, start: number): number {
  const c = bytes[start]
  if (c === QUOTE) return stringEnd(bytes, start)
  if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) {
    // A number, true, false or null: it ends where the next delimiter or space begins.
    for (let i = start + 1; i < bytes.length; i++) {
      const d = bytes[i]
      if (d === COMMA || d === CLOSE_ARRAY || d === CLOSE_OBJECT || d <= 0x20) return i
    }
    return INCOMPLETE
  }
  let depth = 0
  for (let i = start; i < bytes.length; i++) {
    const d = bytes[i]
    if (d === QUOTE) {
      const end = stringEnd(bytes, i)
      if (end === INCOMPLETE) return INCOMPLETE
      i = end - 1
    } else if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++
    else if ((d === CLOSE_OBJECT || d === CLOSE_ARRAY) && --depth === 0) return i + 1
  }
  return INCOMPLETE
}

/** The index just after the closing quote of the string opening at `open`, or INCOMPLETE. */
function stringEnd(bytes: Uint8Array, open: number): number {
  for (let i = open + 1; i < bytes.length; i++) {
    const d = bytes[i]
    if (d === BACKSLASH) i++
    else if (d === QUOTE) return i + 1
  }
  return INCOMPLETE
}

function decodeString(bytes: Uint8Array, open: number, end: number): string | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + open, end - open).toString('utf8'))
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/** Whether the JSON string from `open` to `end` (quotes included) decodes to `name` (ASCII). */
function stringIs(bytes: Uint8Array, open: number, end: number, name: string): boolean {
  // Keys are short; a long one cannot be `name` unless escaped, and escapes are at most 6 bytes each.
  if (end - open > name.length * 6 + 2) return false
  // Compared byte by byte: a stranger's body may hold a million short keys, and decoding each cost ~1 µs.
  let escaped = false
  for (let i = open + 1; i < end - 1; i++) if (bytes[i] === BACKSLASH) escaped = true
  if (escaped) return decodeString(bytes, open, end) === name
  if (end - open !== name.length + 2) return false
  for (let i = 0; i < name.length; i++) if (bytes[open + 1 + i] !== name.charCodeAt(i)) return false
  return true
}

function skipSpace(bytes: Uint8Array, from: number): number {
  let i = from
  // JSON's whitespace is space, tab, line feed and carriage return, all below 0x21.
  while (i < bytes.length && bytes[i] <= 0x20) i++
  return i
}
