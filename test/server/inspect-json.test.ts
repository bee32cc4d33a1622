import { expect } from 'chai'
import { inspectJson } from '../../src/server/inspect-json'

const LIMITS = { maxDepth: 4, maxKeys: 10 }

describe('inspectJson', () => {
  it('accepts maxDepth levels of containers and refuses one more, through objects and arrays', () => {
    expect(inspectJson({ a: [{ b: [] }] }, LIMITS)).to.equal(undefined)
    expect(inspectJson({ a: [{ b: [{}] }] }, LIMITS)).to.equal('JSON nested deeper than 4 levels')
    expect(inspectJson([[[['leaf', 1, null, true]]]], LIMITS)).to.equal(undefined)
  })

  it('counts object keys and array elements together, over the whole document', () => {
    // 3 keys at the top, 3 elements in a, 2 keys in b, 2 elements in e: 10 in all.
    const atLimit = { a: [1, 2, 3], b: { c: 1, d: 2 }, e: [null, 'x'] }
    expect(inspectJson(atLimit, { maxDepth: 4, maxKeys: 10 })).to.equal(undefined)
    expect(inspectJson(atLimit, { maxDepth: 4, maxKeys: 9 })).to.equal('JSON has more than 9 keys and elements')
    expect(inspectJson(JSON.parse('{"__proto__":{"x":1},"y":2}'), { maxDepth: 4, maxKeys: 2 })).to.equal('JSON has more than 2 keys and elements')
  })

  it('passes primitives, and walks 100 000 levels without overflowing the stack', () => {
    expect(inspectJson('text', LIMITS)).to.equal(undefined)
    expect(inspectJson(null, LIMITS)).to.equal(undefined)
    let deep: unknown = 1
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(inspectJson(deep, { maxDepth: 200_000, maxKeys: 1e9 })).to.equal(undefined)
    expect(inspectJson(deep, { maxDepth: 128, maxKeys: 1e9 })).to.equal('JSON nested deeper than 128 levels')
  })
})
