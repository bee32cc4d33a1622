import { expect } from 'chai'
import { GroupCommit } from '../../src/queue/group-commit'

describe('GroupCommit', () => {
  it('commits what was submitted in one turn together, and what comes during a commit in the next group', async () => {
    const groups: number[][] = []
    let release: () => void = () => undefined
    const committing = new GroupCommit<number, string>(async (items) => {
      groups.push(items)
      if (groups.length === 1) await new Promise<void>((resolve) => (release = resolve))
      return items.map((item) => `ok ${item}`)
    }, 0)
    const first = [1, 2, 3].map((item) => committing.submit(item))
    await new Promise((resolve) => setImmediate(resolve))
    const later = [4, 5].map((item) => committing.submit(item))
    release()
    expect(await Promise.all([...first, ...later])).to.deep.equal(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5'])
    expect(groups).to.deep.equal([[1, 2, 3], [4, 5]])
    expect(committing.commits).to.equal(2)
  })

  it('fails one item with its own error, or the whole group when the commit throws', async () => {
    let fail = false
    const committing = new GroupCommit<number, number>((items) => {
      if (fail) throw new Error('disk refused')
      return items.map((item) => (item < 0 ? new Error(`no ${item}`) : item))
    }, 1)
    const results = await Promise.allSettled([committing.submit(1), committing.submit(-1)])
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message))).to.deep.equal([1, 'no -1'])
    fail = true
    const failed = await Promise.allSettled([committing.submit(2), committing.submit(3)])
    expect(failed.map((result) => result.status === 'rejected' && (result.reason as Error).message)).to.deep.equal(['disk refused', 'disk refused'])
    await committing.drain()
  })
})
