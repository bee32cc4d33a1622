import { expect } from 'chai'
import { createReadStream, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import type { KoalaRequest, OutboundRequest, ProfileBatchRequest } from '../../src/koala/request-schema'
import { AdapterError } from '../../src/errors'
import { loadMappingFile } from '../../src/mapping/load-mapping'
import { Checkpoint } from '../../src/replay/settling/checkpoint'
import { DeadLetterFile } from '../../src/replay/settling/dead-letter'
import { createDryRunSink } from '../../src/replay/settling/dry-run-sink'
import { findArchiveFiles, type ArchiveFile } from '../../src/replay/intake/find-archive-files'
import { mapInThisThread, type LineMapper } from '../../src/replay/intake/line-mapper'
import { MapThreads } from '../../src/replay/intake/map-threads'
import type { ReplaySelection } from '../../src/replay/intake/replay-selection'
import type { ReplaySink, SinkOutcome } from '../../src/replay/settling/replay-sink'
import { ReplayCounters } from '../../src/replay/reporting/replay-summary'
import { runReplay, type ReplayPlan } from '../../src/replay/run-replay'
import type { ReplayLimits } from '../../src/replay/replay-types'
import { until } from '../support/until'
import { DAY1, DAY_MS, ROOT, tempDir, trackEvent, writeArchiveFile } from './archive-fixtures'

const loaded = loadMappingFile(path.join(ROOT, 'mappings', 'default.json'))
const mapping = loaded.compiled
const LIMITS: ReplayLimits = { bufferEntries: 1000, maxHoldMs: 60_000, checkpointIntervalMs: 60_000, maxLineBytes: 1 << 20 }

/** A sink that records what it gets and answers as `answer` says, after `delayMs`. */
function recordingSink(answer: (request: KoalaRequest) => SinkOutcome = () => ({ ok: true, status: '200' }), delayMs = 0) {
  const requests: KoalaRequest[] = []
  let unsettled = 0
  let maxUnsettled = 0
  let pending = 0
  let idle: (() => void) | undefined
  const sink: ReplaySink = {
    canRefuse: true,
    submit(outbound, settled) {
      const request = asObjects(outbound)
      requests.push(request)
      unsettled += entriesOf(request)
      maxUnsettled = Math.max(maxUnsettled, unsettled)
      pending++
      setTimeout(() => {
        unsettled -= entriesOf(request)
        pending--
        settled(answer(request))
        if (pending === 0) idle?.()
      }, delayMs)
    },
    backlog: () => 0,
    ready: () => undefined,
    close: () => (pending === 0 ? Promise.resolve() : new Promise((resolve) => (idle = resolve)))
  }
  return { sink, requests, maxUnsettled: () => maxUnsettled }
}

/** A rendered request (from map threads) as the objects its text stands for. */
function asObjects(request: OutboundRequest): KoalaRequest {
  return typeof request.body === 'string' ? ({ endpoint: request.endpoint, body: JSON.parse(request.body) } as KoalaRequest) : (request as KoalaRequest)
}

function entriesOf(request: KoalaRequest): number {
  const body = request.body as Record<string, unknown>
  return Object.values(body).reduce<number>((n, value) => n + (Array.isArray(value) ? value.length : 0), 0)
}

const eventNames = (request: KoalaRequest) => ((request.body as ProfileBatchRequest).events ?? []).map((e) => e.message_id!)

/** Map threads each test of the threaded pass started: the run closes them; after a failed test, afterEach does. */
const running: MapThreads[] = []
/** How many map threads plan() gives a run: each test runs once without, once with. */
let mapThreadCount = 0

function plan(
  files: ArchiveFile[],
  sink: ReplaySink,
  extra: Partial<ReplayPlan> & { deadLetter?: DeadLetterFile; selection?: ReplaySelection } = {}
): ReplayPlan & { problems: string[]; deadLetter: DeadLetterFile } {
  const problems: string[] = []
  const { selection = {}, ...rest } = extra
  const threads = mapThreadCount
  const startMapper = (keepEvents: boolean): LineMapper => {
    if (threads === 0) return mapInThisThread(mapping, { selection, keepEvents })
    const started = new MapThreads(threads, { mapping: loaded.compiled.config, selection: { fromMs: selection.fromMs, toMs: selection.toMs }, keepEvents }, 256)
    running.push(started)
    return started
  }
  return {
    files,
    open: (file) => createReadStream(file.absolute),
    startMapper,
    sink,
    deadLetter: new DeadLetterFile(path.join(tempDir(), 'dead.ndjson')),
    counters: new ReplayCounters(),
    limits: LIMITS,
    report: (line) => problems.push(line),
    onBytes: () => {},
    problems,
    ...rest
  }
}

for (const threads of [0, 2]) describe(`replay: the run${threads === 0 ? '' : `, parsed and mapped by ${threads} map threads`}`, () => {
  before(() => (mapThreadCount = threads))
  after(() => (mapThreadCount = 0))
  afterEach(async () => {
    await Promise.all(running.splice(0).map((threads) => threads.close()))
  })

  it('batches one person across events and files: 65 events become requests of 30, 30 and 5, in order', async () => {
    const root = tempDir()
    const ids = Array.from({ length: 65 }, (_, i) => `ada-${String(i).padStart(2, '0')}`)
    writeArchiveFile(root, 'src', DAY1, 'a.gz', [ids.slice(0, 40).map((id) => trackEvent(id, 'ada@example.com'))])
    writeArchiveFile(root, 'src', DAY1 + DAY_MS, 'b.gz', [ids.slice(40).map((id) => trackEvent(id, 'ada@example.com'))])
    const { sink, requests } = recordingSink()
    const run = plan(findArchiveFiles([root], {}, new Set()).files, sink)
    expect(await runReplay(run)).to.deep.equal({})
    expect(requests.map((request) => entriesOf(request))).to.deep.equal([30, 30, 5])
    expect(requests.flatMap(eventNames)).to.deep.equal(ids)
    expect(run.counters).to.include({ filesRead: 2, eventsRead: 65, eventsSent: 65, deadLettered: 0 })
  })

  it('holds at most the buffer bound while the sink is slow, and still delivers everything, each person in order', async () => {
    const root = tempDir()
    const events = Array.from({ length: 1500 }, (_, i) => trackEvent(`e${i}`, `p${i % 97}@example.com`))
    writeArchiveFile(root, 'src', DAY1, 'a.gz', [events.slice(0, 700), events.slice(700)])
    const { sink, requests, maxUnsettled } = recordingSink(undefined, 2)
    const run = plan(findArchiveFiles([root], {}, new Set()).files, sink, { limits: { ...LIMITS, bufferEntries: 120 } })
    await runReplay(run)
    expect(maxUnsettled()).to.be.at.most(120 + 30)
    expect(run.counters.eventsSent).to.equal(1500)
    const byPerson = new Map<string, string[]>()
    for (const request of requests) {
      const email = (request.body as ProfileBatchRequest).email!
      byPerson.set(email, [...(byPerson.get(email) ?? []), ...eventNames(request)])
    }
    const expected = events.filter((e) => e.context.traits.email === 'p5@example.com').map((e) => e.messageId)
    expect(byPerson.get('p5@example.com')).to.deep.equal(expected)
  })

  it('sends a request that waited past the hold time before the file ends', async () => {
    const file: ArchiveFile = { name: 'slow', absolute: '/slow', size: 0 }
    // The file goes on only once its first request is out, so that request can only have left on
    // the hold timer; after 10 s it goes on anyway and the order below fails. No clock to race.
    const order: string[] = []
    let firstSent = () => {}
    const sentOne = new Promise<void>((resolve) => (firstSent = resolve))
    const { sink } = recordingSink((request) => {
      order.push(`sent ${eventNames(request).join()}`)
      firstSent()
      return { ok: true, status: '200' }
    })
    const run = plan([file], sink, { open: () => slowly(), limits: { ...LIMITS, maxHoldMs: 100 } })
    async function* slowly() {
      yield Buffer.from(JSON.stringify(trackEvent('early', 'ada@example.com')) + '\n')
      let giveUp: NodeJS.Timeout | undefined
      await Promise.race([sentOne, new Promise((resolve) => (giveUp = setTimeout(resolve, 10_000)))])
      clearTimeout(giveUp)
      order.push('file ends')
      yield Buffer.from(JSON.stringify(trackEvent('late', 'bob@example.com')) + '\n')
    }
    await runReplay(run)
    expect(order).to.deep.equal(['sent early', 'file ends', 'sent late'])
  })

  it('dead-letters the events of a refused request as replayable lines, counts them, and goes on', async () => {
    const root = tempDir()
    writeArchiveFile(root, 'src', DAY1, 'a.gz', [[trackEvent('a1', 'ada@example.com'), trackEvent('b1', 'bob@example.com'), trackEvent('a2', 'ada@example.com')]])
    const refuseBob = (request: KoalaRequest): SinkOutcome =>
      (request.body as ProfileBatchRequest).email === 'bob@example.com'
        ? { ok: false, status: '400', reason: { endpoint: 'batch', status: 400, code: 'invalid_payload', error: 'no' } }
        : { ok: true, status: '200' }
    const { sink } = recordingSink(refuseBob)
    const run = plan(findArchiveFiles([root], {}, new Set()).files, sink)
    await runReplay(run)
    expect(run.counters).to.include({ eventsSent: 2, deadLettered: 1 })
    expect(run.counters.requests).to.deep.equal({ '200': 1, '400': 1 })
    const lines = readFileSync(run.deadLetter.path, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
    expect(lines).to.have.length(1)
    expect(lines[0].deadLetter).to.include({ endpoint: 'batch', status: 400, code: 'invalid_payload', error: 'no' })
    expect(lines[0].event).to.deep.equal(trackEvent('b1', 'bob@example.com'))

    // The dead-letter file is an input: its events come out as they went in.
    const again = recordingSink()
    await runReplay(plan(findArchiveFiles([run.deadLetter.path], {}, new Set()).files, again.sink))
    expect(again.requests.map(eventNames)).to.deep.equal([['b1']])
  })

  it('stops when Koala refuses the key, leaving the unsent lines in the checkpoint for the next run', async () => {
    const root = tempDir()
    const events = Array.from({ length: 10 }, (_, i) => trackEvent(`k${i}`, `p${i}@example.com`))
    writeArchiveFile(root, 'src', DAY1, 'a.gz', [events])
    const files = findArchiveFiles([root], {}, new Set()).files
    const checkpointFile = path.join(tempDir(), 'checkpoint.json')
    const scope = { workspace: 'default', paths: [root] }
    let answered = 0
    const refusing = recordingSink(() =>
      ++answered <= 3 ? { ok: true, status: '200' } : { ok: false, status: '401', reason: { endpoint: 'batch', status: 401, error: 'bad key' }, stop: true }
    )
    const first = plan(files, refusing.sink, { checkpoint: Checkpoint.open(checkpointFile, scope), limits: { ...LIMITS, bufferEntries: 1 } })
    const end = await runReplay(first)
    expect(end.stopped).to.match(/Koala refused the key \(HTTP 401\); fix it/)
    expect(readFileSync(first.deadLetter.path, { flag: 'a+' }).length).to.equal(0)
    const saved = JSON.parse(readFileSync(checkpointFile, 'utf8'))
    expect(saved.files[files[0].absolute]).to.equal(4)

    const good = recordingSink()
    const second = plan(files, good.sink, { checkpoint: Checkpoint.open(checkpointFile, scope) })
    await runReplay(second)
    expect(good.requests.flatMap(eventNames)).to.deep.equal(events.slice(3).map((e) => e.messageId))
    expect(JSON.parse(readFileSync(checkpointFile, 'utf8')).files[files[0].absolute]).to.equal('done')
    expect(() => Checkpoint.open(checkpointFile, { ...scope, shard: '1/2' })).to.throw(/belongs to another replay \(shard: it has null, this run "1\/2"\)/)
  })

  it('leaves a file cut short by a read error at its first unread line, so a later run over the whole file delivers the rest', async () => {
    const root = tempDir()
    const events = Array.from({ length: 2000 }, (_, i) => trackEvent(`t${i}`, `p${i % 50}@example.com`))
    const file = writeArchiveFile(root, 'src', DAY1, 'a.gz', [events])
    const whole = readFileSync(file)
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 3)))
    const files = findArchiveFiles([root], {}, new Set()).files
    const checkpointFile = path.join(tempDir(), 'checkpoint.json')
    const scope = { workspace: 'default', paths: [root] }
    const first = recordingSink()
    const cut = plan(files, first.sink, { checkpoint: Checkpoint.open(checkpointFile, scope) })
    await runReplay(cut)
    expect(cut.counters.readErrors).to.equal(1)
    expect(cut.problems.join('\n')).to.match(/a\.gz: gzip error at ~line \d+: .*left for a later run/)
    const saved = JSON.parse(readFileSync(checkpointFile, 'utf8')).files[files[0].absolute]
    expect(saved).to.be.a('number')
    const sentFirst = first.requests.flatMap(eventNames)
    expect(sentFirst.length).to.be.above(0).and.below(2000)

    writeFileSync(file, whole)
    const second = recordingSink()
    await runReplay(plan(findArchiveFiles([root], {}, new Set()).files, second.sink, { checkpoint: Checkpoint.open(checkpointFile, scope) }))
    const all = new Set([...sentFirst, ...second.requests.flatMap(eventNames)])
    expect(all.size).to.equal(2000)
    expect(JSON.parse(readFileSync(checkpointFile, 'utf8')).files[files[0].absolute]).to.equal('done')
  })

  it('keeps the buffer bound inside a JSON document that holds many events', async () => {
    const root = tempDir()
    const file = path.join(root, 'export.json')
    const events = Array.from({ length: 400 }, (_, i) => trackEvent(`d${i}`, `p${i}@example.com`))
    writeFileSync(file, JSON.stringify(events, null, 2))
    const slow = recordingSink(undefined, 2)
    const run = plan(findArchiveFiles([root], {}, new Set()).files, slow.sink, { limits: { ...LIMITS, bufferEntries: 50 } })
    await runReplay(run)
    expect(run.counters).to.include({ eventsRead: 400, eventsSent: 400 })
    expect(slow.maxUnsettled()).to.be.at.most(50)
  })

  it('pauses a dry run while about 1 MB of output waits to be written, and writes everything once the output moves', async () => {
    const root = tempDir()
    const file = path.join(root, 'day.ndjson')
    const events = Array.from({ length: 12_000 }, (_, i) => trackEvent(`e${i}`, `p${i % 300}@example.com`))
    writeFileSync(file, events.map((event) => JSON.stringify(event)).join('\n') + '\n')
    // An output that takes writes but finishes none until it is released: a pipe nobody reads.
    let released = false
    const held: Array<() => void> = []
    const written: Buffer[] = []
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk)
        if (released) done()
        else held.push(done)
      }
    })
    const run = plan(findArchiveFiles([file], {}, new Set()).files, createDryRunSink(out, { end: true }))
    const finished = runReplay(run)
    // Paused: the sink waits for the output's 'drain'. Then no event is read until it comes.
    await until(() => out.listenerCount('drain') > 0, { what: 'the run paused for the output' })
    const read = run.counters.eventsRead
    // Not a state to catch but one that must last: a paused run reads nothing, so no machine's speed
    // fails this; the 200 ms give a run that wrongly goes on the time to show it.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(run.counters.eventsRead, 'events read while paused').to.equal(read)
    expect(read, 'events read before the pause').to.be.above(0).and.below(events.length)
    // The bound, plus the last gathered write and one decoded chunk's output.
    expect(out.writableLength).to.be.at.least(1024 * 1024).and.below(1.5 * 1024 * 1024)
    released = true
    held.splice(0).forEach((done) => done())
    await finished
    const lines = Buffer.concat(written).toString('utf8').trim().split('\n')
    const sent = lines.flatMap((line) => (JSON.parse(line) as KoalaRequest & { body: ProfileBatchRequest }).body.events!.map((e) => e.message_id))
    expect(new Set(sent).size).to.equal(events.length)
    expect(run.counters).to.include({ eventsRead: events.length, eventsSent: events.length })
  })

  it('reads a JSON array of one event, and a dead letter wrapping a /v1/batch envelope, as their events', async () => {
    const root = tempDir()
    const single = path.join(root, 'one.ndjson')
    writeFileSync(single, JSON.stringify([trackEvent('only', 'ada@example.com')]) + '\n')
    const wrapped = path.join(root, 'wrapped.ndjson')
    const envelope = { batch: [trackEvent('b1', 'bob@example.com'), trackEvent('b2', 'bob@example.com')] }
    writeFileSync(wrapped, JSON.stringify({ deadLetter: { status: '500', error: 'x' }, event: envelope }) + '\n')
    const { sink, requests } = recordingSink()
    const run = plan(findArchiveFiles([single, wrapped], {}, new Set()).files, sink)
    await runReplay(run)
    expect(requests.flatMap(eventNames).sort()).to.deep.equal(['b1', 'b2', 'only'])
    expect(run.counters).to.include({ eventsRead: 3, eventsSent: 3, malformedLines: 0 })
  })

  it('filters events by time, counts drops by reason, and reports malformed lines with file and line', async () => {
    const root = tempDir()
    const file = writeArchiveFile(root, 'src', DAY1, 'a.gz', [
      [
        trackEvent('in', 'ada@example.com', '2026-11-01T10:00:00Z'),
        trackEvent('out', 'ada@example.com', '2026-10-31T23:00:00Z'),
        trackEvent('browser', 'ada@example.com', '2026-11-01T10:00:00Z', { context: { library: { name: 'analytics.js' }, traits: { email: 'ada@example.com' } } })
      ]
    ])
    const broken = path.join(root, 'broken.ndjson')
    writeFileSync(broken, `${JSON.stringify(trackEvent('ok', 'bob@example.com', '2026-11-01T11:00:00Z'))}\n{"type":"track",\n`)
    const { sink, requests } = recordingSink()
    const run = plan(findArchiveFiles([file, broken], {}, new Set()).files, sink, { selection: { fromMs: DAY1, toMs: DAY1 + DAY_MS } })
    await runReplay(run)
    expect(requests.flatMap(eventNames).sort()).to.deep.equal(['in', 'ok'])
    expect(run.counters).to.include({ eventsRead: 4, eventsOutsideRange: 1, malformedLines: 1, eventsSent: 2 })
    expect(run.counters.dropped).to.deep.equal({ analytics_js: 1 })
    expect(run.problems).to.have.length(1)
    expect(run.problems[0]).to.match(new RegExp(`^${broken}:2: malformed JSON: Expected double-quoted property name`))
  })
})

describe('replay: the line mapper', () => {
  it('is closed by the run; when it fails, the run ends with its error and the checkpoint keeps every line not sent', async () => {
    const root = tempDir()
    const file = path.join(root, 'two.ndjson')
    writeFileSync(file, '')
    // Two chunks, so two batches: the mapper maps the first, and fails on the second.
    const chunks = [trackEvent('a1', 'ada@example.com'), trackEvent('b1', 'bob@example.com')].map((event) => Buffer.from(JSON.stringify(event) + '\n'))
    const inThread = mapInThisThread(mapping, { selection: {}, keepEvents: true })
    let batches = 0
    let closed = 0
    const failing: LineMapper = {
      capacity: 1,
      map: (framed) => (++batches === 2 ? Promise.reject(new AdapterError('REPLAY_THREAD_FAILED', 'the mapper failed')) : inThread.map(framed)),
      close: async () => void closed++
    }
    const checkpointFile = path.join(tempDir(), 'checkpoint.json')
    const { sink, requests } = recordingSink()
    const run = plan(findArchiveFiles([file], {}, new Set()).files, sink, {
      open: () => Readable.from(chunks),
      startMapper: () => failing,
      checkpoint: Checkpoint.open(checkpointFile, { workspace: 'default', paths: [root] })
    })
    const error = await runReplay(run).then(
      () => undefined,
      (failure: unknown) => failure
    )
    expect(error).to.be.instanceOf(AdapterError).and.have.property('message', 'the mapper failed')
    expect(closed).to.equal(1)
    // a1 was still held (its request open) when the run failed: nothing was sent, and line 1 is where a resumed run starts.
    expect(requests).to.deep.equal([])
    expect(run.counters).to.include({ eventsRead: 1, eventsSent: 0 })
    expect(Checkpoint.open(checkpointFile, { workspace: 'default', paths: [root] }).startOf(file)).to.deep.equal({ next: 1, pending: [] })
  })
})

describe('replay: map threads', () => {
  it('refuse a count below one, which could never answer a batch', () => {
    expect(() => new MapThreads(0, { mapping: loaded.compiled.config, selection: {}, keepEvents: false }, 64)).to.throw(/at least 1, got 0/)
  })

  it('end the run with a clear error when a map thread runs out of memory', async () => {
    const root = tempDir()
    const file = path.join(root, 'huge.ndjson')
    // One line of 16 MB holding 100,000 events: parsed, they need far more than a 24 MB heap.
    const many = JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ type: 'track', event: `E${i}`, properties: { n: i, text: 'x'.repeat(100) } })))
    writeFileSync(file, `${many}\n`)
    const { sink } = recordingSink()
    const threads = new MapThreads(1, { mapping: loaded.compiled.config, selection: {}, keepEvents: true }, 24)
    const run = plan(findArchiveFiles([file], {}, new Set()).files, sink, { startMapper: () => threads, limits: { ...LIMITS, maxLineBytes: 64 << 20, maxHoldMs: 50 } })
    try {
      const error = await runReplay(run).then(
        () => undefined,
        (failure: unknown) => failure
      )
      expect(error).to.be.instanceOf(AdapterError).and.have.property('code', 'REPLAY_THREAD_FAILED')
      expect((error as Error).message).to.match(/a replay map thread ran out of memory \(its heap is limited to 24 MB\)/)
      expect(run.counters.eventsRead).to.equal(0)
    } finally {
      await threads.close()
    }
  })
})
