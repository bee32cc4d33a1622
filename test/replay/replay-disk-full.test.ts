import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Checkpoint, type FileStart } from '../../src/replay/settling/checkpoint'
import path from 'node:path'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { cliAsync, DAY1, DAY_MS, KOALA_KEY, tempDir, trackEvent, writeArchiveFile } from './archive-fixtures'

/**
 * A real full disk: a 64 KB tmpfs (mounting needs root; without it these tests are skipped).
 * Koala refuses every request, so the dead letters fill it within the first few hundred events.
 */
describe('koala-adapter replay on a full disk', function () {
  this.timeout(60_000)
  let sim: RunningSimulator
  let disk: string | undefined
  before(async function () {
    sim = await startSimulator({ keys: [KOALA_KEY] })
    const dir = path.join(tempDir(), 'tiny-disk')
    mkdirSync(dir)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' })
      disk = dir
    } catch {
      this.skip()
    }
  })
  afterEach(() => {
    if (disk !== undefined) for (const name of readdirSync(disk)) execFileSync('rm', ['-f', path.join(disk, name)])
  })
  after(async () => {
    if (disk !== undefined) execFileSync('umount', [disk])
    await sim?.close()
  })

  for (const threads of ['0', '2']) {
    it(`stops with one line and exit 3, whole dead-letter lines only, and a checkpoint that still holds every event not dead-lettered (--map-threads ${threads})`, async () => {
      const root = tempDir()
      const lines = new Map<string, { file: string; line: number }>()
      for (let day = 0; day < 2; day++) {
        const events = Array.from({ length: 400 }, (_, i) => trackEvent(`f${day}-${i}`, `p${i % 13}@example.com`))
        const file = writeArchiveFile(root, 'src', DAY1 + day * DAY_MS, 'part.gz', [events])
        events.forEach((event, i) => lines.set(event.messageId, { file, line: i + 1 }))
      }
      sim.reset()
      sim.addFaults({ status: 400, body: { error: 'refused', code: 'invalid_payload' }, times: 1_000_000 })
      const deadLetter = path.join(disk!, 'dead.ndjson')
      const checkpoint = path.join(disk!, 'checkpoint.json')
      const run = await cliAsync(['replay', '--workspace', 'default', '--quiet', '--map-threads', threads, '--concurrency', '2', '--checkpoint', checkpoint, '--dead-letter', deadLetter, root], {
        KOALA_PUBLIC_API_KEY: KOALA_KEY,
        KOALA_BASE_URL: sim.baseUrl,
        REPLAY_CHECKPOINT_INTERVAL_MS: '20',
        REPLAY_BUFFER_ENTRIES: '100'
      })
      expect(run.status, run.stderr).to.equal(3)
      const printed = run.stderr.trim().split('\n')
      expect(printed, run.stderr).to.have.length(1)
      expect(printed[0]).to.match(/^replay: stopped: cannot write .*(dead\.ndjson|checkpoint\.json).*no space left on the device/)
      expect(run.stderr).not.to.match(/\n\s+at /)

      // Whole lines only: every one parses.
      const written = existsSync(deadLetter) ? readFileSync(deadLetter, 'utf8') : ''
      expect(written === '' || written.endsWith('\n'), 'a torn last line').to.equal(true)
      const deadLettered = new Set(written.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line).event.messageId as string))
      expect(deadLettered.size).to.be.above(0)
      expect(deadLettered.size).to.be.below(lines.size)
      // The checkpoint parses, and every event not in the dead-letter file is at or after its next line, or pending below it: a resumed run reads it.
      const saved = existsSync(checkpoint) ? (JSON.parse(readFileSync(checkpoint, 'utf8')).files as Record<string, unknown>) : {}
      for (const [id, { file, line }] of lines) {
        if (deadLettered.has(id)) continue
        const start = saved[file] ?? 1
        expect(start, `${id} is lost: the checkpoint moved past it`).not.to.equal('done')
        const { next, pending } = typeof start === 'number' ? { next: start, pending: [] } : (start as { next: number; pending: number[] })
        expect(line >= next || pending.includes(line), `${id} (line ${line}) is lost: the checkpoint has ${JSON.stringify(start)}`).to.equal(true)
      }
    })
  }

  it('a checkpoint that cannot be written throws WRITE_FAILED and leaves the last one written whole, with no .tmp behind', () => {
    const file = path.join(disk!, 'checkpoint.json')
    const checkpoint = Checkpoint.open(file, { workspace: 'w', paths: ['/a'] })
    checkpoint.save([['/a/1.gz', { next: 7, pending: [] }]])
    const before = readFileSync(file, 'utf8')
    // Fill the rest of the disk.
    try {
      for (let i = 0; ; i++) writeFileSync(path.join(disk!, `filler-${i}`), Buffer.alloc(4096))
    } catch {
      // ENOSPC: full.
    }
    const many: Array<[string, FileStart]> = Array.from({ length: 2000 }, (_, i) => [`/a/file-with-a-long-name-${i}.gz`, { next: i + 2, pending: [1] }])
    expect(() => checkpoint.save(many)).to.throw(/cannot write the checkpoint .*checkpoint\.json: no space left on the device \(ENOSPC\)/)
    expect(readFileSync(file, 'utf8')).to.equal(before)
    expect(existsSync(`${file}.tmp`)).to.equal(false)
  })
})
