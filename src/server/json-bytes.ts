/**
 * The byte-level steps of reading JSON without building values: where a value or a
 * string ends, and the walk over a top-level object's keys. A door uses them to
 * authenticate a body before parsing it (json-extent.ts) and to measure its events as
 * sent (event-sizes.ts). The bytes may be a prefix of a body: what has not arrived yet
 * is INCOMPLETE.
 */

export const QUOTE = 0x22
export const BACKSLASH = 0x5c
export const COMMA = 0x2c
export const COLON = 0x3a
export const OPEN_ARRAY = 0x5b
export const CLOSE_ARRAY = 0x5d
export const OPEN_OBJECT = 0x7b
export const CLOSE_OBJECT = 0x7d
/** Where a value would end when the bytes stop before it does. */
export const INCOMPLETE = -1

/**
 * Calls `visit` for each key of the top-level object, in order, with a test of the key's
 * name and where its value starts; `visit` returns where the value ends when it read the
 * value, else undefined. False when the bytes are not an object, or end or break before it does.
 */
export function forEachTopLevelKey(bytes: Uint8Array, visit: (isKey: (name: string) => boolean, valueStart: number) => number | undefined): boolean {
  let i = skipSpace(bytes, 0)
  if (bytes[i] !== OPEN_OBJECT) return false
  i = skipSpace(bytes, i + 1)
  while (bytes[i] === QUOTE) {
    const open = i
    const keyEnd = stringEnd(bytes, i)
    if (keyEnd === INCOMPLETE) return false
    i = skipSpace(bytes, keyEnd)
    if (bytes[i] !== COLON) return false
    i = skipSpace(bytes, i + 1)
    const visited = visit((name) => stringIs(bytes, open, keyEnd, name), i)
    i = visited ?? valueEnd(bytes, i)
    if (i === INCOMPLETE) return false
    i = skipSpace(bytes, i)
    if (bytes[i] !== COMMA) break
    i = skipSpace(bytes, i + 1)
  }
  return true
}

/** The index just after the JSON value starting at `start`, or INCOMPLETE when the bytes end first. */
export function valueEnd(bytes: Uint8Array, start: number): number {
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
export function stringEnd(bytes: Uint8Array, open: number): number {
  for (let i = open + 1; i < bytes.length; i++) {
    const d = bytes[i]
    if (d === BACKSLASH) i++
    else if (d === QUOTE) return i + 1
  }
  return INCOMPLETE
}

export function decodeString(bytes: Uint8Array, open: number, end: number): string | undefined {
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

export function skipSpace(bytes: Uint8Array, from: number): number {
  let i = from
  // JSON's whitespace is space, tab, line feed and carriage return, all below 0x21.
  while (i < bytes.length && bytes[i] <= 0x20) i++
  return i
}
