import { expect } from 'chai'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { loadConfig } from '../../src/config'
import { loadMappingFile } from '../../src/mapping/load-mapping'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { Checkpoint } from '../../src/replay/checkpoint'
import { DeadLetterFile } from '../../src/replay/dead-letter'
import { findArchiveFiles } from '../../src/replay/find-archive-files'
import { ReplayCounters } from '../../src/replay/replay-summary'
import { ReplayWorkerError, runReplayInWorkers, type WorkerPoolPlan } from '../../src/replay/replay-workers'
import { DAY1, DAY_MS, KOALA_KEY, messageIdsOf, ROOT, tempDir, trackEvent, writeArchiveFile } from './archive-fixtures'

const mapping = loadMappingFile(path.join(ROOT, 'mappings', 'default.json')).compiled.config
const LIMITS = { bufferEntries: 400, maxHoldMs: 60_000, checkpointIntervalMs: 20, maxLineBytes: 64 << 20 }

/** Six files of 200 events each (40 people), the third with a malformed line 7; returns the ids. */
function archive(root: string): string[] {
  const ids: string[] = []
  for (let file = 0; file < 6; file++) {
    const events = Array.from({ length: 200 }, (_, i) => trackEvent(`f${file}-${i}`, `p${(i * 3 + file) % 40}@example.com`))
    const written = writeArchiveFile(root, 'src', DAY1 + Math.floor(file / 2) * DAY_MS, `${file}.gz`, [events.slice(0, 120), events.slice(120)])
    if (file === 2) {
      const lines = events.map((event) => JSON.stringify(event))
      lines.splice(6, 0, '{"type": "track", "email": "hidden@example.com"')
      writeFileSync(written.replace(/\.gz$/, '.ndjson'), lines.join('\n') + '\n')
      writeFileSync(written, '')
    }
    ids.push(...events.map((event) => event.messageId))
  }
  return ids
}

function poolPlan(root: string, extra: Partial<WorkerPoolPlan> = {}): WorkerPoolPlan & { problems: string[]; bytes: () => number } {
  const problems: string[] = []
  let bytes = 0
  const files = findArchiveFiles([root], {}, new Set()).files.filter((file) => statSync(file.absolute).size > 0)
  return {
    workers: 2,
    files,
    mapping,
    selection: {},
    limits: LIMITS,
    deadLetter: new DeadLetterFile(path.join(tempDir(), 'dead.ndjson')),
    counters: new ReplayCounters(),
    heapMb: 256,
    progressIntervalMs: 10,
    report: (line) => problems.push(line),
    onBytes: (n) => (bytes += n),
    problems,
    bytes: () => bytes,
    ...extra
  }
}

describe('replay: worker threads', function () {
  this.timeout(60_000)

  it('a dry run writes every event once, in whole lines, and reports counts, bytes and problems as one thread would', async () => {
    const root = tempDir()
    const ids = archive(root)
    const stream = new PassThrough()
    let text = ''
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const plan = poolPlan(root, { output: { stream, end: true } })
    const end = await runReplayInWorkers(plan).done
    expect(end).to.deep.equal({})

    // Whole lines only: each parses alone, and together they hold every message id exactly once.
    const lines = text.split('\n')
    expect(lines.pop()).to.equal('')
    const requests = lines.map((line) => JSON.parse(line))
    expect(messageIdsOf(requests).sort()).to.deep.equal([...ids].sort())
    const { counters } = plan
    expect(counters).to.include({ filesRead: 6, eventsRead: ids.length, eventsSent: ids.length, malformedLines: 1 })
    expect(counters.requests.written).to.equal(requests.length)
    expect(plan.bytes()).to.equal(plan.files.reduce((sum, file) => sum + file.size, 0))
    expect(plan.problems).to.have.length(1)
    expect(plan.problems[0]).to.match(/2\.ndjson:7: malformed JSON/)
    expect(plan.problems[0]).not.to.contain('hidden@example.com')
  })

  it('ends with a clear error when a worker runs out of memory', async () => {
    const root = tempDir()
    const file = path.join(root, 'huge.ndjson')
    // One 48 MB line: reading it needs far more than a 24 MB heap.
    writeFileSync(file, `{"type":"track","event":"${'x'.repeat(48 << 20)}"}\n{"type":"track"}\n`)
    writeFileSync(path.join(root, 'small.ndjson'), JSON.stringify(trackEvent('s1', 'ada@example.com')) + '\n')
    const plan = poolPlan(root, { heapMb: 24, output: { stream: new PassThrough().resume(), end: true } })
    const error = await runReplayInWorkers(plan).done.then(
      () => undefined,
      (failure: unknown) => failure
    )
    expect(error).to.be.instanceOf(ReplayWorkerError)
    expect((error as Error).message).to.match(/a replay worker ran out of memory \(its heap is limited to 24 MB\)/)
  })

  describe('sending', () => {
    let sim: RunningSimulator
    before(async () => (sim = await startSimulator({ keys: [KOALA_KEY] })))
    after(() => sim.close())
    beforeEach(() => sim.reset())

    const delivery = (concurrency: number) => ({
      target: { baseUrl: sim.baseUrl, publicApiKey: KOALA_KEY },
      config: loadConfig({}, { replayMaxRetries: 0 }),
      concurrency
    })

    it('dead-letters what Koala refuses, and records every file done in the checkpoint', async () => {
      const root = tempDir()
      const ids = archive(root)
      sim.addFaults({ status: 400, body: { error: 'ingest suspended' }, times: 3 })
      const checkpointPath = path.join(tempDir(), 'checkpoint.json')
      const checkpoint = Checkpoint.open(checkpointPath, { workspace: 'default', paths: [root] })
      const plan = poolPlan(root, { checkpoint, delivery: delivery(2) })
      const end = await runReplayInWorkers(plan).done
      expect(end).to.deep.equal({})

      const { counters } = plan
      expect(counters.requests['400']).to.equal(3)
      expect(counters.eventsSent + counters.deadLettered).to.equal(ids.length)
      const deadLetters = readFileSync(plan.deadLetter.path, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
      expect(deadLetters).to.have.length(counters.deadLettered)
      const delivered = new Set(messageIdsOf(sim.requests()))
      expect(ids.filter((id) => !delivered.has(id)).sort()).to.deep.equal(deadLetters.map((line) => line.event.messageId).sort())
      const saved = JSON.parse(readFileSync(checkpointPath, 'utf8'))
      expect(Object.values(saved.files)).to.deep.equal(plan.files.map(() => 'done'))
    })

    it('stops the whole run when Koala refuses the key, leaving the checkpoint behind the unsent lines', async () => {
      const root = tempDir()
      archive(root)
      const checkpointPath = path.join(tempDir(), 'checkpoint.json')
      const checkpoint = Checkpoint.open(checkpointPath, { workspace: 'default', paths: [root] })
      const plan = poolPlan(root, { checkpoint, delivery: { ...delivery(2), target: { baseUrl: sim.baseUrl, publicApiKey: 'pk_wrong' } } })
      const end = await runReplayInWorkers(plan).done
      expect(end.stopped).to.match(/Koala refused the key \(HTTP 401/)
      expect(plan.counters.eventsSent).to.equal(0)
      expect(plan.counters.deadLettered).to.equal(0)
      // Not every file was handed out, and none is recorded as done.
      expect(plan.counters.filesRead).to.be.below(plan.files.length)
      checkpoint.save([])
      const saved = JSON.parse(readFileSync(checkpointPath, 'utf8'))
      expect(Object.values(saved.files)).not.to.include('done')
    })
  })
})
