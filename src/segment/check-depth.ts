import { childPointer } from '../errors'

/** Deepest nesting we accept in one event: deeper data makes JSON.stringify overflow the stack. */
export const MAX_EVENT_DEPTH = 64

/**
 * Returns the JSON pointer of the first value nested deeper than `maxDepth`, or
 * undefined when the value is shallow enough. Iterative, so hostile nesting cannot
 * overflow the stack while we measure it; the pointer is only built for a value
 * that fails, since every event passes through here.
 */
export function findTooDeep(value: unknown, maxDepth: number = MAX_EVENT_DEPTH): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const nodes: object[] = [value]
  const depths: number[] = [1]
  while (nodes.length > 0) {
    const node = nodes.pop()!
    const depth = depths.pop()!
    if (depth > maxDepth) return pointerTo(value, node)
    for (const key in node) {
      const child = (node as Record<string, unknown>)[key]
      if (typeof child === 'object' && child !== null) {
        nodes.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return undefined
}

/** The pointer of `target` inside `root`, by a breadth-first search (only run on failure). */
function pointerTo(root: object, target: object): string {
  const queue: Array<{ node: object; path: string }> = [{ node: root, path: '' }]
  for (let i = 0; i < queue.length; i++) {
    const { node, path } = queue[i]
    if (node === target) return path
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key]
      if (typeof child === 'object' && child !== null) queue.push({ node: child, path: childPointer(path, key) })
    }
  }
  return ''
}
