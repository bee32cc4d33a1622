/** Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 says. */
export function childPointer(pointer: string, token: string | number): string {
  return `${pointer}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`
}

/** The JSON pointer of a path of keys and indexes (a zod issue's), below `base`. */
export function pointerOf(path: readonly PropertyKey[], base = ''): string {
  let pointer = base
  for (const token of path) pointer = childPointer(pointer, String(token))
  return pointer
}
