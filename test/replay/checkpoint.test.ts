import { expect } from 'chai'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { Checkpoint } from '../../src/replay/checkpoint'
import { tempDir } from './archive-fixtures'

const SCOPE = { workspace: 'default', paths: ['/archive'] }

describe('Checkpoint', () => {
  it('records positions in memory and writes them on flush, keeping a file once done', () => {
    const file = path.join(tempDir(), 'run.checkpoint')
    const checkpoint = Checkpoint.open(file, SCOPE)
    checkpoint.record([['/archive/a.gz', 120], ['/archive/b.gz', 'done']])
    expect(existsSync(file)).to.equal(false)
    checkpoint.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).files).to.deep.equal({ '/archive/a.gz': 120, '/archive/b.gz': 'done' })
    // A done file is reported once and then forgotten by the run; the checkpoint keeps it.
    checkpoint.save([['/archive/a.gz', 'done']])
    const reopened = Checkpoint.open(file, SCOPE)
    expect([reopened.startOf('/archive/a.gz'), reopened.startOf('/archive/b.gz'), reopened.startOf('/archive/c.gz')]).to.deep.equal(['done', 'done', 1])
  })

  it('does not rewrite the file when nothing changed', () => {
    const file = path.join(tempDir(), 'run.checkpoint')
    const checkpoint = Checkpoint.open(file, SCOPE)
    checkpoint.save([['/archive/a.gz', 7]])
    const first = readFileSync(file, 'utf8')
    checkpoint.record([['/archive/a.gz', 7]])
    checkpoint.flush()
    expect(readFileSync(file, 'utf8')).to.equal(first)
  })
})
