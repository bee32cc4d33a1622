import { expect } from 'chai'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { until } from '../support/until'
import { BIN, cli, cliAsync, DAY1, DAY_MS, KOALA_KEY, messageIdsOf, ndjson, ROOT, tempDir, trackEvent, writeArchiveFile } from './archive-fixtures'

const SAMPLE = 'examples/segment-logs'

/**
 * Koala that answers the first `answered` requests and holds every later one until
 * `release()`: a run stays mid-delivery for as long as a test needs, with no timing involved.
 */
async function heldKoala(answered: number) {
  const held: ServerResponse[] = []
  const bodies: unknown[] = []
  let holding = true
  const answer = (res: ServerResponse) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}')
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (chunk) => (text += chunk))
    req.on('end', () => {
      bodies.push(JSON.parse(text))
      if (holding && bodies.length > answered) held.push(res)
      else answer(res)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    held: () => held.length,
    release() {
      holding = false
      held.splice(0).forEach(answer)
    },
    close() {
      server.closeAllConnections()
      server.close()
    }
  }
}

/** Spawns the real CLI, collecting its output. */
function startCli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcessWithoutNullStreams; out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk) => (out.stdout += chunk))
  child.stderr.on('data', (chunk) => (out.stderr += chunk))
  return { child, out }
}

describe('koala-adapter replay', function () {
  this.timeout(60_000)

  describe('dry run', () => {
    it('names a pretty-printed document over REPLAY_MAX_LINE_BYTES, and where, as the reason its file is cut short', () => {
      const file = path.join(tempDir(), 'events.json')
      writeFileSync(file, JSON.stringify(Array.from({ length: 40 }, (_, i) => trackEvent(`long-${i}`, 'ann@example.com')), null, 2))
      const run = cli(['replay', '--dry-run', '--workspace', 'default', '--quiet', file], { REPLAY_MAX_LINE_BYTES: '1000' })
      expect(run.status, run.stderr).to.equal(1)
      expect(run.stderr).to.contain('events.json: line 1 opens a JSON document that is not NDJSON and is longer than 1000 bytes; the rest of this file is left for a later run')
      expect(run.stderr).not.to.contain('INPUT_INVALID')
    })

    it('writes the requests of the sample archive as NDJSON {endpoint, body} and sends nothing', () => {
      const run = cli(['replay', '--workspace', 'default', '--dry-run', SAMPLE])
      expect(run.status, run.stderr).to.equal(0)
      const requests = run.stdout.trim().split('\n').map((line) => JSON.parse(line))
      expect(requests.length).to.be.within(2, 10)
      for (const request of requests) expect(Object.keys(request)).to.deep.equal(['endpoint', 'body'])
      expect(requests.map((r) => r.endpoint)).to.include('accounts/batch')
      expect(run.stderr).to.match(/events: +48 read, 44 written, 4 dropped \(analytics_js 2, no_identity 2\)/)
    })

    it('selects by --from/--to and --source, writes to --out, and prints the summary as JSON with --json', () => {
      const out = path.join(tempDir(), 'requests.ndjson')
      const run = cli(['replay', '--workspace', 'default', '--dry-run', '--out', out, '--json', '--quiet', '--from', '2026-11-02', '--to', '2026-11-02', '--source', 'Vh3bYQcAjH', SAMPLE])
      expect(run.status, run.stderr).to.equal(0)
      const summary = JSON.parse(run.stdout)
      expect(summary).to.deep.include({ dryRun: true, files: { read: 1, skippedAsDone: 0, readErrors: 0 } })
      expect(summary.events).to.include({ read: 24, sent: 22, dropped: 2 })
      const ids = messageIdsOf(readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line)))
      expect(ids.every((id) => id.startsWith('sample-d2-'))).to.equal(true)
      // A source the archive does not hold (a typo, the wrong archive) is not an empty replay: exit 1, naming the ones it holds.
      const none = cli(['replay', '--workspace', 'default', '--dry-run', '--out', out, '--json', '--source', 'other', '--source', 'Vh3bYQcAjH', SAMPLE])
      expect(none.status, none.stderr).to.equal(1)
      expect(none.stderr.trim()).to.equal(`replay: --source other: no such source in ${SAMPLE}; sources found: Vh3bYQcAjH`)
      expect(none.stdout).to.equal('')
    })

    it('writes the same output byte for byte, and the same summary, with map threads as without', () => {
      const root = tempDir()
      const sample = (name: string) => readFileSync(path.join(ROOT, SAMPLE, name))
      writeFileSync(path.join(root, '1.gz'), sample('Vh3bYQcAjH/1793491200000/1793523600000.sample-1.gz'))
      writeFileSync(path.join(root, '2.gz'), sample('Vh3bYQcAjH/1793577600000/1793610000000.sample-2.gz'))
      // Many people over many batches, then lines that hold several events, a dead letter, drops and a malformed line.
      const many = Array.from({ length: 3000 }, (_, i) => trackEvent(`m${i}`, `p${i % 97}@example.com`, new Date(DAY1 + i * 60_000).toISOString()))
      // Body fields that differ within a person's request are merged from their text (koala/rendered-request.ts), with threads or without.
      many.forEach((event, i) => Object.assign(event.context as object, { ip: `198.51.100.${i % 5}`, traits: { email: ` P${i % 97}@Example.com`, plan: i % 3 } }))
      writeFileSync(path.join(root, '3.ndjson'), ndjson(many))
      const envelope = { batch: [trackEvent('e1', 'ada@example.com'), { type: 'track', event: 'Nobody', messageId: 'e2' }], sentAt: new Date(DAY1).toISOString() }
      const deadLetter = { deadLetter: { endpoint: 'batch', status: 400, error: 'x', at: new Date(DAY1).toISOString() }, event: trackEvent('d1', 'bob@example.com') }
      writeFileSync(path.join(root, '4.ndjson'), [JSON.stringify([trackEvent('a1', 'ada@example.com'), trackEvent('a2', 'bob@example.com')]), JSON.stringify(envelope), JSON.stringify(deadLetter), '{"type": "track",', '', JSON.stringify(trackEvent('a3', 'ada@example.com'))].join('\n') + '\n')
      const runs = ['0', '2'].map((threads) => {
        const out = path.join(tempDir(), 'out.ndjson')
        const run = cli(['replay', '--workspace', 'default', '--dry-run', '--json', '--quiet', '--map-threads', threads, '--from', '2026-11-01', '--to', '2026-11-02', '--out', out, root])
        expect(run.status, run.stderr).to.equal(1)
        const summary = JSON.parse(run.stdout)
        delete summary.elapsedMs
        return { output: readFileSync(out, 'utf8'), summary, stderr: run.stderr }
      })
      expect(runs[1].summary).to.deep.equal(runs[0].summary)
      expect(runs[0].summary.events.outsideRange).to.be.above(0)
      expect(runs[0].summary.events.dropped).to.be.above(0)
      expect(runs[0].summary.events.malformedLines).to.equal(1)
      expect(runs[1].output.length).to.be.above(100_000)
      expect(runs[1].output === runs[0].output, 'the outputs differ').to.equal(true)
      expect(runs[1].stderr).to.equal(runs[0].stderr)
      expect(runs[1].stderr).to.match(/4\.ndjson:4: malformed JSON/)
    })

    it('reads gzip from stdin', () => {
      const input = gzipSync(ndjson([trackEvent('s1', 'ada@example.com'), trackEvent('s2', 'ada@example.com')]))
      const run = cli(['replay', '--workspace', 'default', '--dry-run', '-'], {}, input as unknown as string)
      expect(run.status, run.stderr).to.equal(0)
      expect(messageIdsOf([JSON.parse(run.stdout)])).to.deep.equal(['s1', 's2'])
    })

    for (const threads of [['--map-threads', '0'], ['--map-threads', '2']]) it(`reports a corrupt gzip member, a truncated gzip and a malformed line with file and line, reads on, and exits 1 (${threads.join(' ')})`, () => {
      const root = tempDir()
      const good = Array.from({ length: 300 }, (_, i) => trackEvent(`g${i}`, `p${i % 7}@example.com`))
      const corruptMember = gzipSync(ndjson([trackEvent('c2', 'ada@example.com')]))
      corruptMember[corruptMember.length - 6] ^= 0xff
      const dir = path.dirname(writeArchiveFile(root, 'src', DAY1, '1-corrupt.gz', [[trackEvent('c1', 'ada@example.com')]]))
      writeFileSync(path.join(dir, '1-corrupt.gz'), Buffer.concat([readFileSync(path.join(dir, '1-corrupt.gz')), corruptMember]))
      const whole = gzipSync(ndjson(good))
      writeFileSync(path.join(dir, '2-truncated.gz'), whole.subarray(0, whole.length - 200))
      writeFileSync(path.join(dir, '3-bad-line.ndjson'), `${JSON.stringify(trackEvent('b1', 'ada@example.com'))}\n{"type": "track", "email": "hidden@example.com"\n${JSON.stringify(trackEvent('b3', 'ada@example.com'))}\n`)
      writeArchiveFile(root, 'src', DAY1, '4-good.gz', [good.slice(0, 5)])

      const out = path.join(tempDir(), 'out.ndjson')
      const run = cli(['replay', '--workspace', 'default', '--dry-run', ...threads, '--out', out, root])
      expect(run.status, run.stderr).to.equal(1)
      expect(run.stderr).to.match(/1-corrupt\.gz: damaged gzip \(incorrect data check\): not read, nothing of it sent/)
      expect(run.stderr).to.match(/2-truncated\.gz: gzip error at ~line \d+: unexpected end of file/)
      expect(run.stderr).to.match(/3-bad-line\.ndjson:2: malformed JSON: /)
      expect(run.stderr).not.to.contain('hidden@example.com')
      expect(run.stderr).to.match(/files: +4 read, 2 cut short by read errors/)
      const ids = messageIdsOf(readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line)))
      expect(ids).to.include.members(['b1', 'b3', 'g0', 'g4'])
      expect(ids).not.to.include.members(['c1'])
    })
  })

  describe('what it shows while Koala holds requests', () => {
    function oneFile(): { root: string; ids: string[] } {
      const root = tempDir()
      const events = Array.from({ length: 240 }, (_, i) => trackEvent(`h${i}`, `p${i % 6}@example.com`))
      writeArchiveFile(root, 'src', DAY1, 'part.gz', [events])
      return { root, ids: events.map((event) => event.messageId) }
    }

    it('counts events settled in its progress lines, not events read', async () => {
      const { root } = oneFile()
      const koala = await heldKoala(0)
      try {
        const { child, out } = startCli(['replay', '--workspace', 'default', '--concurrency', '2', '--dead-letter', path.join(tempDir(), 'dead.ndjson'), root], {
          KOALA_PUBLIC_API_KEY: KOALA_KEY,
          KOALA_BASE_URL: koala.baseUrl,
          REPLAY_PROGRESS_INTERVAL_MS: '20'
        })
        const progressLines = () => out.stderr.split('\n').filter((line) => /^replay: .*events/.test(line))
        // All 240 read and batched, two requests at Koala, none answered: a progress line printed now counts nothing settled.
        await until(() => koala.held() === 2 && progressLines().some((line) => line.includes('(240 read)')), { what: 'a progress line with everything read', withinMs: 30_000 })
        const line = progressLines().find((text) => text.includes('(240 read)'))!
        expect(line).to.match(/^replay: 0\.0% \(0\.0 MB of [\d.]+ MB\), 0 events settled \(240 read\), 0 events\/s/)
        koala.release()
        const [status] = (await once(child, 'close')) as [number | null]
        expect(status, out.stderr).to.equal(0)
        expect(out.stderr).to.match(/events: +240 read, 240 sent/)
      } finally {
        koala.close()
      }
    })

    it('SIGINT prints the summary so far; the resumed run says it resumed and how many lines it skipped, and sends only the rest', async () => {
      const { root, ids } = oneFile()
      const dir = tempDir()
      const checkpoint = path.join(dir, 'checkpoint.json')
      const args = ['replay', '--workspace', 'default', '--concurrency', '2', '--checkpoint', checkpoint, '--dead-letter', path.join(dir, 'dead.ndjson'), root]
      const koala = await heldKoala(3)
      let first: { status: number | null; stderr: string }
      try {
        const { child, out } = startCli(args, { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: koala.baseUrl, REPLAY_MAP_THREADS: '0' })
        await until(() => koala.held() === 2, { what: 'two requests held at Koala', withinMs: 30_000 })
        child.kill('SIGINT')
        const [status] = (await once(child, 'close')) as [number | null]
        first = { status, stderr: out.stderr }
      } finally {
        koala.close()
      }
      expect(first.status, first.stderr).to.equal(130)
      // Three requests of 30 answered; the two held are not counted as sent.
      expect(first.stderr).to.match(/replay STOPPED in [\d.]+ s\n/)
      expect(first.stderr).to.match(/events: +240 read, 90 sent, 0 dropped\n/)
      expect(first.stderr).to.match(/stopped: interrupted \(SIGINT\)\n/)
      expect(first.stderr).to.contain(`replay: SIGINT: stopped; progress is saved in ${checkpoint}: run the same command to resume`)

      const sim = await startSimulator({ keys: [KOALA_KEY] })
      try {
        const again = await cliAsync([...args, '--json'], { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl })
        expect(again.status, again.stderr).to.equal(0)
        const summary = JSON.parse(again.stdout)
        // The 90 lines Koala took were skipped, though they lie among the lines still to send: only the other 150 are read and sent.
        expect(summary.resumed).to.deep.equal({ filesAlreadyDone: 0, linesSkipped: 90 })
        expect(summary.events).to.include({ read: 150, sent: 150 })
        const sent = messageIdsOf(sim.requests())
        expect(new Set([...sent, ...messageIdsOf(koala.bodies.slice(0, 3).map((body) => ({ body })))]).size).to.equal(ids.length)
        const text = await cliAsync(args, { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl })
        expect(text.stderr).to.match(/resumed: +.*checkpoint\.json: 1 files already done, 0 lines settled earlier skipped/)
      } finally {
        await sim.close()
      }
    })
  })

  describe('usage errors exit 2', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['no --workspace', ['replay', '--dry-run', SAMPLE], /required option '--workspace <name>'/],
      ['an unknown workspace', ['replay', '--workspace', 'nope', '--dry-run', SAMPLE], /no mapping for workspace "nope"/],
      ['a bad --shard', ['replay', '--workspace', 'default', '--dry-run', '--shard', '3/2', SAMPLE], /--shard must be K\/N/],
      ['a bad --from', ['replay', '--workspace', 'default', '--dry-run', '--from', 'monday', SAMPLE], /--from must be an ISO date/],
      ['a missing path', ['replay', '--workspace', 'default', '--dry-run', 'no/such/dir'], /no such file or folder: no\/such\/dir/],
      ['--workers, which is gone', ['replay', '--workspace', 'default', '--dry-run', '--workers', '2', SAMPLE], /--workers is gone: .*lost a person's order; use --shard K\/N to split a replay across machines/],
      ['a bad --map-threads', ['replay', '--workspace', 'default', '--dry-run', '--map-threads', 'many', SAMPLE], /--map-threads must be auto or a whole number from 0 to 16, got "many"/],
      ['--out without --dry-run', ['replay', '--workspace', 'default', '--out', 'x', SAMPLE], /--out is for --dry-run/],
      ['--checkpoint on stdin', ['replay', '--workspace', 'default', '--checkpoint', 'c.json', '-'], /--checkpoint cannot resume stdin/],
      ['an unset Koala key', ['replay', '--workspace', 'default', SAMPLE], /environment variable KOALA_PUBLIC_API_KEY is not set/],
      ['a dead-letter file in a missing folder', ['replay', '--workspace', 'default', '--dry-run', '--dead-letter', '/no/such/dir/dead.ndjson', SAMPLE], /cannot write \/no\/such\/dir\/dead\.ndjson/],
      ['an --out file in a missing folder', ['replay', '--workspace', 'default', '--dry-run', '--out', '/no/such/dir/out.ndjson', SAMPLE], /cannot write --out \/no\/such\/dir\/out\.ndjson: ENOENT/]
    ]
    for (const [what, args, message] of cases) {
      it(what, () => {
        const run = cli(args)
        expect(run.status, run.stderr).to.equal(2)
        expect(run.stderr).to.match(message)
      })
    }

    it('REPLAY_WORKERS, which is gone, whatever its value', () => {
      const run = cli(['replay', '--workspace', 'default', '--dry-run', SAMPLE], { REPLAY_WORKERS: '1' })
      expect(run.status, run.stderr).to.equal(2)
      expect(run.stderr).to.match(/REPLAY_WORKERS is gone: .*use --shard K\/N to split a replay across machines; unset it/)
      expect(run.stdout).to.equal('')
    })

    it('REPLAY_CONCURRENCY or REPLAY_BUFFER_ENTRIES of 0', () => {
      for (const variable of ['REPLAY_CONCURRENCY', 'REPLAY_BUFFER_ENTRIES']) {
        const run = cli(['replay', '--workspace', 'default', '--dry-run', SAMPLE], { [variable]: '0' })
        expect(run.status, run.stderr).to.equal(2)
        expect(run.stderr).to.contain(`setting ${variable}="0" is not valid; allowed: a whole number, 1 or more, without a unit`)
      }
    })

    it('a checkpoint of another replay', () => {
      const dir = tempDir()
      const checkpoint = path.join(dir, 'checkpoint.json')
      const koalaDown = { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: 'http://127.0.0.1:9', REPLAY_MAX_RETRIES: '0' }
      const first = cli(['replay', '--workspace', 'default', '--checkpoint', checkpoint, '--dead-letter', path.join(dir, 'dead.ndjson'), '--shard', '1/2', SAMPLE], koalaDown)
      expect(existsSync(checkpoint), first.stderr).to.equal(true)
      const run = cli(['replay', '--workspace', 'default', '--checkpoint', checkpoint, '--shard', '2/2', SAMPLE], { KOALA_PUBLIC_API_KEY: KOALA_KEY })
      expect(run.status).to.equal(2)
      expect(run.stderr).to.match(/belongs to another replay \(shard: it has "1\/2", this run "2\/2"\)/)
    })
  })

  describe('delivering to Koala', () => {
    let sim: RunningSimulator
    before(async () => (sim = await startSimulator({ keys: [KOALA_KEY] })))
    after(() => sim.close())
    beforeEach(() => sim.reset())

    const env = () => ({ KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl })

    function archive(): { root: string; ids: string[] } {
      const root = tempDir()
      const ids: string[] = []
      for (let day = 0; day < 2; day++) {
        const events = Array.from({ length: 120 }, (_, i) => trackEvent(`d${day}-${i}`, `p${i % 6}@example.com`))
        writeArchiveFile(root, 'src', DAY1 + day * DAY_MS, 'part.gz', [events.slice(0, 60), events.slice(60)])
        ids.push(...events.map((e) => e.messageId))
      }
      return { root, ids }
    }

    it('absorbs 503s with retries, dead-letters what Koala refuses with a 400 and exits 1; the dead-letter file replayed later delivers the rest, exit 0', async () => {
      const { root, ids } = archive()
      const deadLetter = path.join(tempDir(), 'dead.ndjson')
      sim.addFaults([{ status: 503, times: 3 }, { status: 400, body: { error: 'ingest suspended', code: 'suspended' }, times: 1 }])
      const run = await cliAsync(['replay', '--workspace', 'default', '--json', '--concurrency', '1', '--dead-letter', deadLetter, root], env())
      expect(run.status, run.stderr).to.equal(1)
      const summary = JSON.parse(run.stdout)
      expect(summary.requests.byStatus['400']).to.equal(1)
      expect(summary.requests.retries).to.equal(3)
      expect(summary.events.deadLettered).to.be.within(1, 30)
      expect(summary.events.sent + summary.events.deadLettered).to.equal(ids.length)
      expect(summary.deadLetterFile).to.equal(deadLetter)

      const lines = readFileSync(deadLetter, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
      expect(lines).to.have.length(summary.events.deadLettered)
      expect(lines[0].deadLetter).to.include({ endpoint: 'batch', status: 400, code: 'suspended', error: 'ingest suspended' })
      const delivered = new Set(messageIdsOf(sim.requests()))
      expect(lines.map((line) => line.event.messageId).filter((id) => delivered.has(id))).to.deep.equal([])

      const again = await cliAsync(['replay', '--workspace', 'default', '--json', '--dead-letter', path.join(tempDir(), 'dead2.ndjson'), deadLetter], env())
      expect(again.status, again.stderr).to.equal(0)
      expect(JSON.parse(again.stdout).events).to.include({ read: lines.length, sent: lines.length, deadLettered: 0 })
      expect(new Set(messageIdsOf(sim.requests()))).to.deep.equal(new Set(ids))
    })

    it('a resumed run reports the dead letters its checkpoint\'s earlier runs left (exit 1); a fresh run does not', async () => {
      const { root } = archive()
      const dir = tempDir()
      const deadLetter = path.join(dir, 'dead.ndjson')
      const checkpoint = path.join(dir, 'checkpoint.json')
      const args = ['replay', '--workspace', 'default', '--json', '--concurrency', '1', '--checkpoint', checkpoint, '--dead-letter', deadLetter, root]
      sim.addFaults([{ status: 400, body: { error: 'ingest suspended', code: 'suspended' }, times: 1 }])
      const first = await cliAsync(args, env())
      expect(first.status, first.stderr).to.equal(1)
      const deadLettered = JSON.parse(first.stdout).events.deadLettered
      expect(deadLettered).to.be.above(0)

      // As after a run killed before its summary: everything is done, yet the dead letters must not go unmentioned.
      const resumed = await cliAsync(args, env())
      expect(resumed.status, resumed.stderr).to.equal(1)
      const summary = JSON.parse(resumed.stdout)
      expect(summary.files.skippedAsDone).to.equal(2)
      expect(summary.events.deadLettered).to.equal(0)
      expect(summary.earlierDeadLetters).to.deep.equal({ events: deadLettered, file: deadLetter })
      const text = await cliAsync(args.filter((arg) => arg !== '--json'), env())
      expect(text.stderr).to.match(new RegExp(`DEAD-LETTERED EARLIER: .*dead\\.ndjson already held ${deadLettered} events`))

      const fresh = await cliAsync(['replay', '--workspace', 'default', '--json', '--dead-letter', deadLetter, root], env())
      expect(fresh.status, fresh.stderr).to.equal(0)
      expect(JSON.parse(fresh.stdout)).not.to.have.property('earlierDeadLetters')
    })

    it('rides out faults injected while it runs (503s, a reset connection) and delivers everything, exit 0', async () => {
      const { root, ids } = archive()
      // Slowed down with --rate so the faults land in the middle of the run.
      const running = cliAsync(['replay', '--workspace', 'default', '--json', '--quiet', '--concurrency', '1', '--rate', '8', root], env())
      await until(() => sim.requests().length >= 3, { what: 'three requests at Koala', withinMs: 30_000 })
      const before = sim.requests().length
      sim.addFaults([{ status: 503, times: 2 }, { drop: true, times: 1 }, { status: 429, retryAfter: 0, times: 1 }])
      const run = await running
      expect(run.status, run.stderr).to.equal(0)
      const summary = JSON.parse(run.stdout)
      expect(summary.requests.retries).to.be.at.least(4)
      expect(summary.events).to.include({ sent: ids.length, deadLettered: 0 })
      expect(sim.pendingFaults()).to.deep.equal([])
      expect(sim.requests().length).to.be.above(before)
      expect(new Set(messageIdsOf(sim.requests()))).to.deep.equal(new Set(ids))
    })

    for (const threads of [['--map-threads', '0'], ['--map-threads', '2']]) {
      it(`never sends a line of a gzip damaged mid-file, keeps its checkpoint before the damage, lists it past the cap on problems, exits 1; repaired, the same command delivers it (${threads.join(' ')})`, async () => {
        const root = tempDir()
        const events = Array.from({ length: 1000 }, (_, i) => trackEvent(`z${i}`, `p${i % 50}@example.com`))
        const file = writeArchiveFile(root, 'src', DAY1, 'damaged.gz', [events])
        const whole = readFileSync(file)
        const damaged = Buffer.from(whole)
        // Zeros in the middle of the deflate data: most of it still decodes, to lines that are garbage, until the CRC at the end.
        damaged.fill(0, damaged.length >> 1, (damaged.length >> 1) + 64)
        writeFileSync(file, damaged)
        // 150 malformed lines first: past the cap of problem lines shown.
        const other = Array.from({ length: 20 }, (_, i) => trackEvent(`o${i}`, 'ada@example.com'))
        writeFileSync(path.join(path.dirname(file), '0-noisy.ndjson'), ndjson(other) + '{not json\n'.repeat(150))
        const dir = tempDir()
        const checkpoint = path.join(dir, 'checkpoint.json')
        const args = ['replay', '--workspace', 'default', ...threads, '--checkpoint', checkpoint, '--dead-letter', path.join(dir, 'dead.ndjson'), root]
        const run = await cliAsync(args, env())
        expect(run.status, run.stderr).to.equal(1)
        expect(run.stderr).to.match(/more problems follow/)
        expect(run.stderr).to.match(/\n {2}DAMAGED: \S*damaged\.gz: damaged gzip \(incorrect data check\): not read/)
        const sent = messageIdsOf(sim.requests())
        expect(sent.filter((id) => !id.startsWith('o'))).to.deep.equal([])
        expect(JSON.parse(readFileSync(checkpoint, 'utf8')).files[file] ?? 1).to.equal(1)

        writeFileSync(file, whole)
        const again = await cliAsync([...args, '--json'], env())
        expect(again.status, again.stderr).to.equal(0)
        expect(JSON.parse(again.stdout).files).to.include({ read: 1, skippedAsDone: 1, readErrors: 0 })
        const ids = messageIdsOf(sim.requests())
        expect(new Set(ids)).to.deep.equal(new Set([...other, ...events].map((event) => event.messageId)))
      })
    }

    for (const threads of ['0', '2']) {
      it(`stops with exit 2 when Koala refuses the key, dead-lettering nothing, and prints Koala's code, never its text (--map-threads ${threads})`, async () => {
        const { root } = archive()
        const deadLetter = path.join(tempDir(), 'dead.ndjson')
        // Koala's text may echo the key and an email: only the status and a short code may reach the terminal.
        const echo = { error: 'key pk_wrong_s3cret is revoked; ask ops@example.com', code: 'unauthorized' }
        sim.addFaults({ status: 401, body: echo, times: 1_000 })
        for (const json of [[], ['--json']]) {
          const run = await cliAsync(['replay', '--workspace', 'default', '--map-threads', threads, '--dead-letter', deadLetter, ...json, root], { ...env(), KOALA_PUBLIC_API_KEY: 'pk_wrong_s3cret' })
          expect(run.status, run.stderr).to.equal(2)
          const output = run.stdout + run.stderr
          expect(output).to.match(/Koala refused the key \(HTTP 401, code unauthorized\)/)
          expect(output).not.to.contain('pk_wrong_s3cret')
          expect(output).not.to.contain('ops@example.com')
          expect(existsSync(deadLetter)).to.equal(false)
        }
        sim.clearFaults()
        // A code that is free text is left out.
        sim.addFaults({ status: 403, body: { error: 'no', code: 'forbidden for ops@example.com' }, times: 1_000 })
        const run = await cliAsync(['replay', '--workspace', 'default', '--map-threads', threads, '--dead-letter', deadLetter, root], env())
        sim.clearFaults()
        expect(run.status, run.stderr).to.equal(2)
        expect(run.stderr).to.match(/Koala refused the key \(HTTP 403\)/)
        expect(run.stderr).not.to.contain('ops@example.com')
      })
    }

    it('with map threads, SIGTERM saves the checkpoint at once (exit 143), and the same command resumes and delivers the rest', async () => {
      const root = tempDir()
      const ids: string[] = []
      for (let file = 0; file < 4; file++) {
        const events = Array.from({ length: 150 }, (_, i) => trackEvent(`t${file}-${i}`, `p${i % 10}@example.com`))
        writeArchiveFile(root, 'src', DAY1 + file * DAY_MS, 'part.gz', [events])
        ids.push(...events.map((e) => e.messageId))
      }
      sim.addFaults({ latencyMs: 30, times: 1_000_000 })
      const dir = tempDir()
      const checkpoint = path.join(dir, 'checkpoint.json')
      const args = ['replay', '--workspace', 'default', '--json', '--quiet', '--map-threads', '2', '--concurrency', '2', '--checkpoint', checkpoint, '--dead-letter', path.join(dir, 'dead.ndjson'), root]
      const slow = { ...env(), REPLAY_BUFFER_ENTRIES: '60', REPLAY_MAX_HOLD_MS: '100', REPLAY_CHECKPOINT_INTERVAL_MS: '60000' }
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...slow } })
      let stderr = ''
      child.stderr.on('data', (chunk) => (stderr += chunk))
      await until(() => sim.requests().length >= 6, { what: 'six requests at Koala', withinMs: 30_000 })
      child.kill('SIGTERM')
      const [status] = (await once(child, 'close')) as [number | null]
      expect(status, stderr).to.equal(143)
      expect(stderr).to.contain(`progress is saved in ${checkpoint}`)
      // The checkpoint interval is a minute: what it holds was saved at SIGTERM.
      const saved = JSON.parse(readFileSync(checkpoint, 'utf8'))
      expect(Object.values(saved.files).some((start) => start === 'done' || (typeof start === 'number' ? start : (start as { next: number }).next) > 1), JSON.stringify(saved)).to.equal(true)

      sim.clearFaults()
      const again = await cliAsync(args, env())
      expect(again.status, again.stderr).to.equal(0)
      expect(JSON.parse(again.stdout).events.read).to.be.below(ids.length)
      const delivered = new Set(messageIdsOf(sim.requests()))
      expect(ids.filter((id) => !delivered.has(id))).to.deep.equal([])
    })
  })
})
