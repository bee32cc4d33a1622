/**
 * Walks a decoded body once, without recursion, and says what breaks our limits:
 * nesting deeper than `maxDepth` or more than `maxKeys` keys in all. Run before any
 * other code touches the body, so a hostile document cannot exhaust the stack.
 */
export function inspectJson(value: unknown, limits: { maxDepth: number; maxKeys: number }): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  let keys = 0
  // Two parallel stacks and no per-node arrays: this walks every value of every request body.
  const nodes: object[] = [value]
  const depths: number[] = [0]
  while (nodes.length > 0) {
    const node = nodes.pop()!
    const depth = depths.pop()!
    if (depth >= limits.maxDepth) return `JSON nested deeper than ${limits.maxDepth} levels`
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
      for (const key in node) {
        keys++
        const child = (node as Record<string, unknown>)[key]
        if (typeof child === 'object' && child !== null) {
          nodes.push(child)
          depths.push(depth + 1)
        }
      }
    }
    if (keys > limits.maxKeys) return `JSON has more than ${limits.maxKeys} keys and elements`
  }
  return undefined
}
