import { expect } from 'chai'
import { childPointer, pointerOf } from '../../src/json/json-pointer'

describe('JSON pointers', () => {
  it('escape "~" and "/" in each token, as RFC 6901 says', () => {
    expect(childPointer('/a', 'b/c~d')).to.equal('/a/b~1c~0d')
    expect(pointerOf(['events', 3, 'a/b', '~'])).to.equal('/events/3/a~1b/~0')
    expect(pointerOf(['event'], '/events/0')).to.equal('/events/0/event')
    expect(pointerOf([])).to.equal('')
  })
})
