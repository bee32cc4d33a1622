import { childPointer } from './json-pointer'

/** Deepest nesting we accept in one event: deeper data makes JSON.stringify overflow the stack. */
export const MAX_EVENT_DEPTH = 64

/** What breaks a limit: a container nested too deep (where, as a JSON pointer), or too many keys and elements in all. */
export type JsonLimitProblem = { kind: 'depth'; pointer: string } | { kind: 'keys' }

/**
 * Finds the first value (in document order) nested deeper than `maxDepth` levels of
 * containers, the root being level 1, or more than `maxKeys` object keys and array
 * elements in all; undefined when the value keeps to both.
 *
 * The one depth walker: it runs on every event (MAX_EVENT_DEPTH) and on every request
 * body (MAX_JSON_DEPTH, a setting that may be large) before other code touches it, so it
 * uses an explicit stack and never recursion: a hostile or misconfigured depth cannot
 * exhaust the call stack. Measured on a typical track event, the explicit stack costs ~0.1 µs
 * more than recursion: within the mapping bench's noise. The pointer is
 * built only for a value that fails.
 */
export function findJsonLimitProblem(value: unknown, limits: { maxDepth: number; maxKeys?: number }): JsonLimitProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const maxKeys = limits.maxKeys ?? Infinity
  let keys = 0
  // Two parallel stacks and no per-node arrays: this walks every value of every request body.
  const nodes: object[] = [value]
  const depths: number[] = [1]
  while (nodes.length > 0) {
    const node = nodes.pop() as object
    const depth = depths.pop() as number
    if (depth > limits.maxDepth) return { kind: 'depth', pointer: pointerTo(value, node) }
    const pushed = nodes.length
    if (Array.isArray(node)) {
      keys += node.length
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i]
        if (typeof child === 'object' && child !== null) {
          nodes.push(child)
          depths.push(depth + 1)
        }
      }
    } else {
      // for-in, not Object.keys: no array per node. JSON.parse makes no inherited enumerable keys.
      for (const key in node) {
        keys++
        const child = (node as Record<string, unknown>)[key]
        if (typeof child === 'object' && child !== null) {
          nodes.push(child)
          depths.push(depth + 1)
        }
      }
    }
    if (keys > maxKeys) return { kind: 'keys' }
    // The stack pops last-pushed first: reversed, a node's children are visited in document order.
    reverseFrom(nodes, pushed)
    reverseFrom(depths, pushed)
  }
  return undefined
}

function reverseFrom(items: unknown[], start: number): void {
  for (let i = start, j = items.length - 1; i < j; i++, j--) {
    const swap = items[i]
    items[i] = items[j]
    items[j] = swap
  }
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
