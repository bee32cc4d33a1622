/**
 * Paths and templates that come from event data (`{"@path": {"@path": "$.which"}}`) can only
 * be parsed at run time; a small per-directive memo keeps repeated strings from being parsed
 * per event without letting hostile data grow memory.
 */

/** Wraps `compile` so each distinct string is compiled once, remembering at most `capacity` of them. */
export function boundedMemo<T>(compile: (text: string) => T, capacity = 64): (text: string) => T {
  const seen = new Map<string, T>()
  return (text) => {
    let compiled = seen.get(text)
    if (compiled === undefined) {
      compiled = compile(text)
      // Dropping everything is crude but O(1) and cannot be gamed into a slow path.
      if (seen.size >= capacity) seen.clear()
      seen.set(text, compiled)
    }
    return compiled
  }
}
