import { childPointer } from '../errors'

/** Deepest nesting we accept in one event: deeper data makes JSON.stringify overflow the stack. */
export const MAX_EVENT_DEPTH = 64

/**
 * Returns the JSON pointer of the first value nested deeper than `maxDepth`, or
 * undefined when the value is shallow enough. Iterative, so hostile nesting cannot
 * overflow the stack while we measure it.
 */
export function findTooDeep(value: unknown, maxDepth: number = MAX_EVENT_DEPTH): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const stack: Array<{ node: object; depth: number; path: string }> = [{ node: value, depth: 1, path: '' }]
  while (stack.length > 0) {
    const { node, depth, path } = stack.pop()!
    if (depth > maxDepth) return path
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key]
      if (typeof child === 'object' && child !== null) {
        stack.push({ node: child, depth: depth + 1, path: childPointer(path, key) })
      }
    }
  }
  return undefined
}
