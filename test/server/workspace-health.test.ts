import { expect } from 'chai'
import { DeliveredMemory } from '../../src/server/delivered-memory'
import { WorkspaceHealth } from '../../src/server/workspace-health'

describe('workspace health', () => {
  it('asks to log a Koala refusal once per minute per workspace, and forgets it once Koala accepts', () => {
    let now = Date.parse('2026-11-02T10:00:00Z')
    const health = new WorkspaceHealth(() => now)
    expect(health.koalaRefused('acme', 401)).to.equal(true)
    expect(health.koalaRefused('other', 403)).to.equal(true)
    now += 59_999
    expect(health.koalaRefused('acme', 401)).to.equal(false)
    now += 1
    expect(health.koalaRefused('acme', 401)).to.equal(true)
    expect(health.problems()).to.deep.equal([
      { workspace: 'acme', koala: { status: 401, since: '2026-11-02T10:00:00.000Z', refusals: 3 } },
      { workspace: 'other', koala: { status: 403, since: '2026-11-02T10:00:00.000Z', refusals: 1 } }
    ])
    health.koalaAccepted('acme')
    expect(health.problems().map((p) => p.workspace)).to.deep.equal(['other'])
  })

  it('shows a stale mapping until its file is fresh again', () => {
    const health = new WorkspaceHealth(() => Date.parse('2026-11-02T10:00:00Z'))
    health.mappingStale('acme', 'file missing', 'acme.json')
    expect(health.problems()).to.deep.equal([{ workspace: 'acme', mapping: { reason: 'file missing', file: 'acme.json', since: '2026-11-02T10:00:00.000Z' } }])
    health.mappingFresh('acme')
    expect(health.problems()).to.deep.equal([])
  })

  it('shows why a stale mapping failed to load, the newest failure, until the file is fresh or gone', () => {
    let now = Date.parse('2026-11-02T10:00:00Z')
    const health = new WorkspaceHealth(() => now)
    health.mappingLoadFailed('acme', 'acme.json: /subscriptions/0: first')
    health.mappingStale('acme', 'file invalid', 'acme.json')
    now += 1_000
    health.mappingLoadFailed('acme', 'acme.json: /subscriptions/0: second')
    health.mappingStale('acme', 'file invalid', 'acme.json')
    expect(health.mappingIsStale('acme')).to.equal(true)
    expect(health.problems()).to.deep.equal([
      { workspace: 'acme', mapping: { reason: 'file invalid', file: 'acme.json', since: '2026-11-02T10:00:00.000Z', error: 'acme.json: /subscriptions/0: second' } }
    ])
    health.mappingStale('acme', 'file missing', 'acme.json')
    expect(health.problems()[0].mapping).to.deep.equal({ reason: 'file missing', file: 'acme.json', since: '2026-11-02T10:00:01.000Z' })
    health.mappingFresh('acme')
    expect(health.mappingIsStale('acme')).to.equal(false)
  })
})

describe('delivered memory', () => {
  it('holds at most its capacity, oldest out first, per workspace', () => {
    const memory = new DeliveredMemory(3)
    memory.remember('a', ['m1', 'm2'])
    memory.remember('b', ['m1', 'm3'])
    expect(memory.size).to.equal(3)
    expect([memory.has('a', 'm1'), memory.has('a', 'm2'), memory.has('b', 'm1'), memory.has('b', 'm3'), memory.has('a', 'm3')])
      .to.deep.equal([false, true, true, true, false])
    memory.forget('b', ['m1'])
    expect(memory.has('b', 'm1')).to.equal(false)
  })

  it('forgets what is older than Segment retries (4 hours)', () => {
    let now = 0
    const memory = new DeliveredMemory(10, () => now)
    memory.remember('a', ['m1'])
    now = 4 * 60 * 60 * 1000 - 1
    expect(memory.has('a', 'm1')).to.equal(true)
    now += 1
    expect(memory.has('a', 'm1')).to.equal(false)
    memory.remember('a', ['m2'])
    expect(memory.size).to.equal(1)
  })
})
