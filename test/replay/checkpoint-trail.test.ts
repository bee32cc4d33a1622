import { expect } from 'chai'
import { copyFileSync, createReadStream, readFileSync } from 'node:fs'
import path from 'node:path'
import type { OutboundRequest } from '../../src/koala/request-schema'
import { loadMappingFile } from '../../src/mapping/load-mapping'
import { Checkpoint, type CheckpointStore } from '../../src/replay/settling/checkpoint'
import { DeadLetterFile } from '../../src/replay/settling/dead-letter'
import { findArchiveFiles } from '../../src/replay/intake/find-archive-files'
import { mapInThisThread } from '../../src/replay/intake/line-mapper'
import type { ReplaySink, SinkOutcome } from '../../src/replay/settling/replay-sink'
import { ReplayCounters } from '../../src/replay/reporting/replay-summary'
import { runReplay, type ReplayPlan } from '../../src/replay/run-replay'
import { until } from '../support/until'
import { DAY1, messageIdsOf, ROOT, tempDir, trackEvent, writeArchiveFile } from './archive-fixtures'

const mapping = loadMappingFile(path.join(ROOT, 'mappings', 'default.json')).compiled


const idsOf = (request: OutboundRequest): string[] => messageIdsOf([{ body: typeof request.body === 'string' ? JSON.parse(request.body) : request.body }])

/**
 * Koala as the replay sees it, `concurrency` requests at a time, each answered on the next
 * turn of the event loop, until the test freezes it: then nothing more starts or is answered,
 * and what was started is what a kill leaves in flight.
 */
function busyKoala(concurrency: number) {
  const queue: Array<{ request: OutboundRequest; settled: (outcome: SinkOutcome) => void }> = []
  const started = new Set<string>()
  const delivered = new Set<string>()
  const inFlight = new Map<OutboundRequest, string[]>()
  let frozen = false
  const pump = (): void => {
    while (!frozen && inFlight.size < concurrency && queue.length > 0) {
      const job = queue.shift()!
      const ids = idsOf(job.request)
      for (const id of ids) started.add(id)
      inFlight.set(job.request, ids)
      setImmediate(() => {
        if (frozen) return
        inFlight.delete(job.request)
        for (const id of ids) delivered.add(id)
        job.settled({ ok: true, status: '200' })
        pump()
      })
    }
  }
  const sink: ReplaySink = {
    canRefuse: true,
    submit(request, settled) {
      queue.push({ request, settled })
      pump()
    },
    backlog: () => queue.length,
    ready: () => undefined,
    close: () => new Promise(() => {})
  }
  return {
    sink,
    started,
    delivered,
    freeze: () => (frozen = true),
    inFlightIds: () => [...inFlight.values()].flat()
  }
}

function runPlan(root: string, sink: ReplaySink, checkpoint: CheckpointStore, counters = new ReplayCounters()): ReplayPlan {
  return {
    files: findArchiveFiles([root], {}, new Set()).files,
    open: (file) => createReadStream(file.absolute),
    startMapper: (keepEvents) => mapInThisThread(mapping, { selection: {}, keepEvents }),
    sink,
    deadLetter: new DeadLetterFile(path.join(tempDir(), 'dead.ndjson')),
    checkpoint,
    counters,
    // The hold timer is out of the way: Koala stays busy, which is when it never flushes anyway.
    limits: { bufferEntries: 2000, maxHoldMs: 600_000, checkpointIntervalMs: 5, maxLineBytes: 1 << 20 },
    report: () => {},
    onBytes: () => {}
  }
}

describe('replay: the checkpoint keeps up with Koala (issue 12, item 10)', function () {
  this.timeout(60_000)

  it('with 2,000 people (most seen once) and Koala busy, a resume after a kill resends only what was in flight', async () => {
    const root = tempDir()
    // 20,000 events: 9 in 10 from 50 busy people, every 10th from a person seen once (whose request stays open in the batcher).
    const events = Array.from({ length: 20_000 }, (_, i) => trackEvent(`e${i}`, i % 10 === 0 ? `rare${i}@example.com` : `busy${i % 50}@example.com`))
    writeArchiveFile(root, 'src', DAY1, 'a.gz', [events.slice(0, 10_000), events.slice(10_000)])
    const scope = { workspace: 'default', paths: [root] }
    const checkpointFile = path.join(tempDir(), 'checkpoint.json')
    const checkpoint = Checkpoint.open(checkpointFile, scope)
    let saves = 0
    const store: CheckpointStore = {
      startOf: (absolute) => checkpoint.startOf(absolute),
      save: (positions) => {
        checkpoint.save(positions)
        saves++
      }
    }

    const koala = busyKoala(8)
    void runReplay(runPlan(root, koala.sink, store))
    // Killed once Koala holds 6,000 events: the checkpoint the kill leaves is the first one written after that.
    // Checked after each turn of the event loop, as Koala answers one turn at a time: the freeze lands right after the 6,000th.
    await until(() => koala.delivered.size >= 6_000, { what: '6,000 events delivered', everyMs: 0, withinMs: 45_000 })
    koala.freeze()
    const savesAtFreeze = saves
    await until(() => saves > savesAtFreeze, { what: 'a checkpoint saved after the freeze', everyMs: 0 })
    const killedAt = path.join(tempDir(), 'killed.json')
    copyFileSync(checkpointFile, killedAt)
    const inFlight = koala.inFlightIds()
    const saved = JSON.parse(readFileSync(killedAt, 'utf8')).files

    // The same command again, from that checkpoint.
    const resumed: string[] = []
    const counters = new ReplayCounters()
    const instant: ReplaySink = {
      canRefuse: true,
      submit(request, settled) {
        resumed.push(...idsOf(request))
        settled({ ok: true, status: '200' })
      },
      backlog: () => 0,
      ready: () => undefined,
      close: async () => {}
    }
    await runReplay(runPlan(root, instant, Checkpoint.open(killedAt, scope), counters))

    const everything = events.map((event) => event.messageId)
    const reached = new Set([...koala.started, ...resumed])
    expect(everything.filter((id) => !reached.has(id)), 'events lost').to.deep.equal([])
    const inFlightNow = new Set(inFlight)
    const resent = resumed.filter((id) => koala.started.has(id))
    expect(inFlight.length, 'Koala had requests in flight').to.be.above(0)
    const describe = `resent ${resent.length} events with ${koala.delivered.size} delivered and ${inFlight.length} in flight (checkpoint ${JSON.stringify(saved).slice(0, 300)})`
    expect(resent.filter((id) => !inFlightNow.has(id)).length, describe).to.equal(0)
    expect(counters.eventsSent).to.equal(resumed.length)
  })
})
