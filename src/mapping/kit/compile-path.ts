/**
 * Segment paths, parsed once into key arrays with the exact rules of actions-core's get():
 * split on ".", on "[" before a quote or digit and on "]" after one, drop empty pieces,
 * then delete every quote. So "$.a['b.c']" reads a → b → c, not a key "b.c".
 * Reading follows get()'s `prev && prev[key]`: a falsy value met on the way is returned
 * as it is (0, "", false, null), not undefined.
 */
import { MappingError } from '../../errors'
import { boundedMemo } from './bounded-memo'

/** Reads one value out of a payload. */
export type PathReader = (payload: unknown) => unknown

/** Keys that would walk into Object.prototype or a constructor instead of event data. */
const FORBIDDEN_PATH_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype']

const PIECE_SEPARATOR = /\[(?="|'|\d)|\.|(?<="|'|\d)]+/g
const QUOTES = /'|"/g

/** Splits a path into keys exactly as Segment's get() does ("" and "." mean the payload itself). */
export function pathKeys(path: string): string[] {
  if (path === '' || path === '.') return []
  return path
    .split(PIECE_SEPARATOR)
    .filter((piece) => piece !== '')
    .map((piece) => piece.replace(QUOTES, ''))
}

/** What @path and @arrayPath do before get(): remove the first "$." wherever it is (not only a leading one). */
export function stripRoot(path: string): string {
  return path.replace('$.', '')
}

/** The first key of `keys` that is forbidden, if any. */
export function forbiddenKey(keys: readonly string[]): string | undefined {
  return keys.find((key) => FORBIDDEN_PATH_KEYS.includes(key))
}

/** Throws the MappingError for a path that names a forbidden key; `what` says where the path came from. */
export function assertSafeKeys(keys: readonly string[], pointer: string, what: string): void {
  const bad = forbiddenKey(keys)
  if (bad !== undefined) {
    throw new MappingError(
      pointer,
      `${what} uses the key "${bad}", which would read JavaScript's object prototype instead of event data; ` +
        `remove it (keys named ${FORBIDDEN_PATH_KEYS.join(', ')} are not allowed in paths)`
    )
  }
}

/** Compiles a Segment path ("$.traits.email", "properties.items[0].id", "$.a['b.c']") once. */
export function compilePath(path: string, pointer: string): (payload: unknown) => unknown {
  if (typeof path !== 'string') throw new MappingError(pointer, `a path must be a string, got ${typeof path}`)
  const keys = pathKeys(stripRoot(path))
  assertSafeKeys(keys, pointer, `path ${JSON.stringify(path)}`)
  return readerForKeys(keys)
}

/**
 * Compiles a path that came from event data (after "$." stripping, if the caller wants it):
 * a forbidden key cannot be a compile error there, so such a path reads as missing.
 */
export const compileDataPath: (path: string) => PathReader = boundedMemo((path: string) => {
  const keys = pathKeys(path)
  return forbiddenKey(keys) === undefined ? readerForKeys(keys) : readNothing
})

function readNothing(): undefined {
  return undefined
}

/**
 * One step of get(). A function can only come from a prototype (JSON has none), e.g.
 * "$.name.toUpperCase"; it reads as undefined so results stay data.
 */
function step(from: unknown, key: string): unknown {
  const value = (from as Record<string, unknown>)[key]
  return typeof value === 'function' ? undefined : value
}

/** Returns a reader for pre-split keys; short paths are unrolled because they are most of them. */
export function readerForKeys(keys: readonly string[]): PathReader {
  const [a, b, c] = keys
  switch (keys.length) {
    case 0:
      return (payload) => payload
    case 1:
      return (payload) => payload && step(payload, a)
    case 2:
      return (payload) => {
        const first = payload && step(payload, a)
        return first && step(first, b)
      }
    case 3:
      return (payload) => {
        const first = payload && step(payload, a)
        const second = first && step(first, b)
        return second && step(second, c)
      }
    default: {
      const all = keys.slice()
      return (payload) => {
        let value = payload
        for (let i = 0; i < all.length && value; i++) value = step(value, all[i])
        return value
      }
    }
  }
}
