/**
 * Walks a decoded body once, without recursion, and says what breaks our limits:
 * nesting deeper than `maxDepth` or more than `maxKeys` keys in all. Run before any
 * other code touches the body, so a hostile document cannot exhaust the stack.
 */
export function inspectJson(value: unknown, limits: { maxDepth: number; maxKeys: number }): string | undefined {
  let keys = 0
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }]
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (depth >= limits.maxDepth) return `JSON nested deeper than ${limits.maxDepth} levels`
    const children = Array.isArray(node) ? node : Object.values(node)
    keys += children.length
    if (keys > limits.maxKeys) return `JSON has more than ${limits.maxKeys} keys and elements`
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 })
  }
  return undefined
}
