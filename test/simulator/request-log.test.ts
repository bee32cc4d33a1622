import { expect } from 'chai'
import { RequestLog } from '../../src/simulator/request-log'

describe('RequestLog', () => {
  it('keeps only the newest requests past its cap, in order', () => {
    const log = new RequestLog(20)
    for (let i = 0; i < 45; i++) log.record({ method: 'POST', path: `/r${i}`, key: 'k', headers: {}, body: {}, flags: [] })
    const paths = log.list().map((r) => r.path)
    expect(paths.length).to.be.at.most(20)
    expect(paths[paths.length - 1]).to.equal('/r44')
    expect(paths).to.deep.equal([...paths].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))))
  })
})
