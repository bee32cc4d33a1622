import { expect } from 'chai'
import { findJsonLimitProblem, MAX_EVENT_DEPTH } from '../../src/json/json-limits'

/** `levels` containers nested inside one another, objects and arrays taking turns. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf'
  for (let level = levels; level > 0; level--) value = level % 2 === 0 ? [value] : { a: value }
  return value
}

/** The pointer of the first container beyond `maxDepth`, or undefined. */
const tooDeep = (value: unknown, maxDepth = MAX_EVENT_DEPTH): string | undefined => {
  const problem = findJsonLimitProblem(value, { maxDepth })
  return problem?.kind === 'depth' ? problem.pointer : undefined
}

describe('findJsonLimitProblem', () => {
  const LIMITS = { maxDepth: 4, maxKeys: 10 }

  it('accepts exactly maxDepth levels of objects and arrays, the root counting as one, and points at the first level beyond', () => {
    expect(tooDeep(nested(MAX_EVENT_DEPTH))).to.equal(undefined)
    expect(tooDeep(nested(MAX_EVENT_DEPTH + 1))).to.equal('/a/0'.repeat(MAX_EVENT_DEPTH / 2))
    expect(findJsonLimitProblem({ a: [{ b: [] }] }, LIMITS)).to.equal(undefined)
    expect(findJsonLimitProblem({ a: [{ b: [{}] }] }, LIMITS)).to.deep.equal({ kind: 'depth', pointer: '/a/0/b/0' })
    expect(findJsonLimitProblem([[[['leaf', 1, null, true]]]], LIMITS)).to.equal(undefined)
  })

  it('points at the first too-deep branch in document order, beside shallow ones, and reads an own "__proto__" key as data', () => {
    const event = JSON.parse(`{"type":"track","properties":{"ok":[1,{"b":2}],"__proto__":${JSON.stringify(nested(MAX_EVENT_DEPTH))}}}`)
    expect(tooDeep(event)).to.match(/^\/properties\/__proto__\/a\/0/)
    expect(tooDeep(JSON.parse('{"properties":{"__proto__":{"shallow":[1]}}}'))).to.equal(undefined)
    expect(tooDeep({ x: 1, first: [[{}]], second: [[{}]] }, 3)).to.equal('/first/0/0')
    expect(tooDeep([[], [[[]]], [[[]]]], 3)).to.equal('/1/0/0')
  })

  it('counts object keys and array elements together, over the whole document', () => {
    // 3 keys at the top, 3 elements in a, 2 keys in b, 2 elements in e: 10 in all.
    const atLimit = { a: [1, 2, 3], b: { c: 1, d: 2 }, e: [null, 'x'] }
    expect(findJsonLimitProblem(atLimit, { maxDepth: 4, maxKeys: 10 })).to.equal(undefined)
    expect(findJsonLimitProblem(atLimit, { maxDepth: 4, maxKeys: 9 })).to.deep.equal({ kind: 'keys' })
    expect(findJsonLimitProblem(JSON.parse('{"__proto__":{"x":1},"y":2}'), { maxDepth: 4, maxKeys: 2 })).to.deep.equal({ kind: 'keys' })
    expect(findJsonLimitProblem(atLimit, { maxDepth: 4 })).to.equal(undefined)
  })

  it('answers for primitives, and walks 100 000 levels without overflowing the stack', () => {
    expect(findJsonLimitProblem('text', LIMITS)).to.equal(undefined)
    expect(findJsonLimitProblem(null, LIMITS)).to.equal(undefined)
    const deep = nested(100_000)
    expect(findJsonLimitProblem(deep, { maxDepth: 200_000, maxKeys: 1e9 })).to.equal(undefined)
    expect(tooDeep(deep)).to.have.length(MAX_EVENT_DEPTH * 2)
    expect(tooDeep(nested(3), 2)).to.equal('/a/0')
  })
})
