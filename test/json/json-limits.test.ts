import { expect } from 'chai'
import { findTooDeep, MAX_EVENT_DEPTH } from '../../src/json/json-limits'

/** `levels` containers nested inside one another, objects and arrays taking turns. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf'
  for (let level = levels; level > 0; level--) value = level % 2 === 0 ? [value] : { a: value }
  return value
}

describe('findTooDeep', () => {
  it('accepts exactly MAX_EVENT_DEPTH levels of objects and arrays, and points at the first level beyond', () => {
    expect(findTooDeep(nested(MAX_EVENT_DEPTH))).to.equal(undefined)
    const pointer = findTooDeep(nested(MAX_EVENT_DEPTH + 1))
    expect(pointer).to.equal('/a/0'.repeat(MAX_EVENT_DEPTH / 2))
  })

  it('finds a deep branch beside shallow ones, and reads an own "__proto__" key as data', () => {
    const event = JSON.parse(`{"type":"track","properties":{"ok":[1,{"b":2}],"__proto__":${JSON.stringify(nested(MAX_EVENT_DEPTH))}}}`)
    expect(findTooDeep(event)).to.match(/^\/properties\/__proto__\/a\/0/)
    expect(findTooDeep(JSON.parse('{"properties":{"__proto__":{"shallow":[1]}}}'))).to.equal(undefined)
  })

  it('answers for primitives and for 100 000 levels without overflowing the stack', () => {
    expect(findTooDeep('text')).to.equal(undefined)
    expect(findTooDeep(null)).to.equal(undefined)
    expect(findTooDeep(nested(100_000))).to.have.length(MAX_EVENT_DEPTH * 2)
    expect(findTooDeep(nested(3), 2)).to.equal('/a/0')
  })
})
