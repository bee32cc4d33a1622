import { expect } from 'chai'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Checkpoint } from '../../src/replay/settling/checkpoint'
import { tempDir } from './archive-fixtures'

const SCOPE = { workspace: 'default', paths: ['/archive'] }
const at = (next: number, pending: number[] = []) => ({ next, pending })

describe('Checkpoint', () => {
  it('records positions in memory and writes them on flush, keeping a file once done', () => {
    const file = path.join(tempDir(), 'run.checkpoint')
    const checkpoint = Checkpoint.open(file, SCOPE)
    checkpoint.record([['/archive/a.gz', at(120)], ['/archive/b.gz', 'done']])
    expect(existsSync(file)).to.equal(false)
    checkpoint.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).files).to.deep.equal({ '/archive/a.gz': 120, '/archive/b.gz': 'done' })
    // A done file is reported once and then forgotten by the run; the checkpoint keeps it.
    checkpoint.save([['/archive/a.gz', 'done']])
    const reopened = Checkpoint.open(file, SCOPE)
    expect([reopened.startOf('/archive/a.gz'), reopened.startOf('/archive/b.gz'), reopened.startOf('/archive/c.gz')]).to.deep.equal(['done', 'done', at(1)])
  })

  it('does not rewrite the file when nothing changed', () => {
    const file = path.join(tempDir(), 'run.checkpoint')
    const checkpoint = Checkpoint.open(file, SCOPE)
    checkpoint.save([['/archive/a.gz', at(7)]])
    const first = readFileSync(file, 'utf8')
    checkpoint.record([['/archive/a.gz', at(7)]])
    checkpoint.flush()
    expect(readFileSync(file, 'utf8')).to.equal(first)
  })

  it('keeps the lines still unsettled below the next line to read, and reads them back', () => {
    const file = path.join(tempDir(), 'run.checkpoint')
    Checkpoint.open(file, SCOPE).save([['/archive/a.gz', at(9001, [12, 4077])], ['/archive/b.gz', at(1, [])]])
    expect(JSON.parse(readFileSync(file, 'utf8')).files).to.deep.equal({ '/archive/a.gz': { next: 9001, pending: [12, 4077] } })
    expect(Checkpoint.open(file, SCOPE).startOf('/archive/a.gz')).to.deep.equal(at(9001, [12, 4077]))
  })

  it('reads a checkpoint written before positions (a first unsettled line per file) as that line with nothing pending', () => {
    const file = path.join(tempDir(), 'run.checkpoint')
    const old = { version: 1, scope: SCOPE, files: { '/archive/a.gz': 'done', '/archive/b.gz': 350 }, updatedAt: '2026-11-20T10:00:00.000Z' }
    writeFileSync(file, JSON.stringify(old) + '\n')
    const reopened = Checkpoint.open(file, SCOPE)
    expect(reopened.resumed).to.equal(true)
    expect([reopened.startOf('/archive/a.gz'), reopened.startOf('/archive/b.gz')]).to.deep.equal(['done', at(350)])
  })
})
