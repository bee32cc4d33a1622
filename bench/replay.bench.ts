import { spawn } from 'node:child_process'
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createGunzip, gzipSync } from 'node:zlib'
import { trackEvents } from './generate-events'
import { formatRate } from './measure'

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')
// Every side of a comparison runs as the product does, without ts-node (see src/swc-hook.js).
const SWC_HOOK = path.join(ROOT, 'src', 'swc-hook.js')
const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000)
const DAYS = 10
const FILES_PER_DAY = 4
const ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 2)
const SOURCE_ID = 'BenchSrc01'
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * An archive of EVENTS track calls (~1 KB, 500 people) in Segment's S3 layout, 10 day
 * folders × 4 files, each file two gzip members. Built once and cached in .bench-data/
 * (git-ignored): a million events take about a minute to gzip.
 */
function archive(): { root: string; dayFolders: string[] } {
  const root = path.join(ROOT, '.bench-data', `replay-${EVENTS}`)
  const logs = path.join(root, 'segment-logs', SOURCE_ID)
  const complete = path.join(root, '.complete')
  if (!existsSync(complete)) {
    rmSync(root, { recursive: true, force: true })
    const perFile = Math.ceil(EVENTS / (DAYS * FILES_PER_DAY))
    let written = 0
    for (let day = 0; day < DAYS; day++) {
      const dayMs = Date.UTC(2026, 10, 1) + day * DAY_MS
      mkdirSync(path.join(logs, String(dayMs)), { recursive: true })
      for (let part = 0; part < FILES_PER_DAY && written < EVENTS; part++) {
        const count = Math.min(perFile, EVENTS - written)
        const events = trackEvents(count, 500, 1000 + day * FILES_PER_DAY + part)
        events.forEach((event, i) => {
          const time = new Date(dayMs + part * 6 * 3600_000 + i * 100).toISOString()
          Object.assign(event, { messageId: `bench-${day}-${part}-${i}`, timestamp: time, originalTimestamp: time, receivedAt: time, sentAt: time })
        })
        const lines = events.map((event) => JSON.stringify(event))
        const half = Math.floor(lines.length / 2)
        const members = [lines.slice(0, half), lines.slice(half)].map((chunk) => gzipSync(chunk.join('\n') + '\n'))
        writeFileSync(path.join(logs, String(dayMs), `${dayMs + part}.part-${part}.gz`), Buffer.concat(members))
        written += count
      }
      process.stderr.write(`replay bench: generated day ${day + 1} of ${DAYS}\n`)
    }
    writeFileSync(complete, `${EVENTS}\n`)
  }
  const dayFolders = readdirSync(logs).sort().map((day) => path.join(logs, day))
  return { root, dayFolders }
}

/** `cpuUs`: CPU time of all the child's threads (gunzip runs on libuv's), start-up included. */
type ChildFigures = { events: number; ms: number; maxRssKb: number; cpuUs: number }

/** Runs `node <args>` with the peak-RSS reporter preloaded; `figures` reads events and ms from its stdout. */
function measureChild(args: string[], figures: (stdout: string) => { events: number; ms: number }): Promise<ChildFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', path.join(__dirname, 'report-max-rss.js'), ...args], { cwd: ROOT })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (status) => {
      const usage = /max-rss-kb (\d+) cpu-us (\d+)/.exec(stderr)
      if (status !== 0 || usage === null) return reject(new Error(`child ${args.join(' ')} exited ${status}:\n${stderr.slice(-2000)}`))
      resolve({ ...figures(stdout), maxRssKb: Number(usage[1]), cpuUs: Number(usage[2]) })
    })
  })
}

/** `replay --dry-run --out /dev/null` with `flags` over `paths`; its own summary gives events and elapsed time (start-up excluded). */
function ours(paths: string[], flags: string[]): Promise<ChildFigures> {
  const args = [BIN, 'replay', '--workspace', 'default', '--dry-run', '--out', '/dev/null', '--json', '--quiet', ...flags, ...paths]
  return measureChild(args, (stdout) => {
    const summary = JSON.parse(stdout)
    return { events: summary.events.read, ms: summary.elapsedMs }
  })
}

/** The baseline, in a child of its own like ours: gunzip, split lines, JSON.parse, nothing else. */
function baseline(dayFolders: string[]): Promise<ChildFigures> {
  return measureChild(['-r', SWC_HOOK, __filename, '--baseline', ...dayFolders], (stdout) => JSON.parse(stdout))
}

async function runBaseline(dayFolders: string[]): Promise<void> {
  const started = process.hrtime.bigint()
  let events = 0
  let sink = 0
  for (const dir of dayFolders) {
    for (const name of readdirSync(dir).sort()) {
      const gunzip = createReadStream(path.join(dir, name), { highWaterMark: 256 * 1024 }).pipe(createGunzip())
      gunzip.setEncoding('utf8')
      let partial = ''
      for await (const text of gunzip as AsyncIterable<string>) {
        const lines = (partial + text).split('\n')
        partial = lines.pop()!
        for (const line of lines) {
          if (line === '') continue
          sink += (JSON.parse(line) as { type: string }).type.length
          events++
        }
      }
    }
  }
  if (sink === 0) throw new Error('nothing parsed')
  process.stdout.write(JSON.stringify({ events, ms: Number(process.hrtime.bigint() - started) / 1e6 }) + '\n')
}

/** The settings measured: the default (map threads: 2 on this 2-core machine), and everything in one thread. */
const SETTINGS = [
  { key: 'default', label: 'replay --dry-run (default: 2 map threads)', flags: [] as string[] },
  { key: 'oneThread', label: 'same, --map-threads 0 (one thread)', flags: ['--map-threads', '0'] }
]

/** The dry run vs plain gunzip + split + JSON.parse of the same files, and peak RSS on the whole archive and a quarter of it. */
export async function replayBench(): Promise<{ lines: string[]; figures: Record<string, number> }> {
  const { root, dayFolders } = archive()
  const base: ChildFigures[] = []
  const mine = new Map<string, ChildFigures[]>(SETTINGS.map((setting) => [setting.key, []]))
  const contenders: Array<() => Promise<void>> = [
    async () => void base.push(await baseline(dayFolders)),
    ...SETTINGS.map((setting) => async () => void mine.get(setting.key)!.push(await ours([root], setting.flags)))
  ]
  for (let round = 0; round < ROUNDS; round++) {
    // The order turns each round, so a noisy neighbour hits every side alike.
    for (let i = 0; i < contenders.length; i++) await contenders[(i + round) % contenders.length]()
  }
  const files = dayFolders.flatMap((dir) => readdirSync(dir).sort().map((name) => path.join(dir, name)))
  const quarterFiles = files.slice(0, Math.ceil(files.length / 4))
  const best = (runs: ChildFigures[]) => runs.reduce((a, b) => (b.events / b.ms > a.events / a.ms ? b : a))
  const rate = (run: ChildFigures) => (run.events / run.ms) * 1000
  // The least CPU per event of a side's runs: a steadier figure than the rate, which moves with how free the second core is.
  const cpuPerEvent = (runs: ChildFigures[]) => Math.min(...runs.map((run) => run.cpuUs / run.events))
  const mb = (kb: number) => (kb / 1024).toFixed(0)
  const b = best(base)
  const baseRate = rate(b)
  const lines = [
    `replay: ${b.events.toLocaleString('en-US')} events (~1 KB track calls, 500 people) in ${DAYS * FILES_PER_DAY} multi-member .gz files, S3 layout; best of ${ROUNDS} runs each, separate processes`,
    `  gunzip + split + JSON.parse                 ${formatRate(baseRate).padStart(10)}  (${(b.ms / 1000).toFixed(1)} s, peak RSS ${mb(b.maxRssKb)} MB)`
  ]
  const figures: Record<string, number> = { baseline: baseRate, baselineCpuUs: cpuPerEvent(base) }
  for (const setting of SETTINGS) {
    const runs = mine.get(setting.key)!
    const o = best(runs)
    const peakKb = Math.max(...runs.map((run) => run.maxRssKb))
    const quarter = await ours(quarterFiles, setting.flags)
    lines.push(
      `  ${setting.label.padEnd(43)} ${formatRate(rate(o)).padStart(10)}  (${(o.ms / 1000).toFixed(1)} s, peak RSS ${mb(peakKb)} MB; a quarter of the archive: ${formatRate(rate(quarter))}, peak RSS ${mb(quarter.maxRssKb)} MB)`
    )
    figures[`replay_${setting.key}`] = rate(o)
    figures[`peakRssMb_${setting.key}`] = peakKb / 1024
    figures[`quarterPeakRssMb_${setting.key}`] = quarter.maxRssKb / 1024
    figures[`cpuUs_${setting.key}`] = cpuPerEvent(runs)
  }
  lines.push(
    `  CPU per event, all threads, start-up included, least of the runs: baseline ${figures.baselineCpuUs.toFixed(1)} µs; ` +
      SETTINGS.map((setting) => `${setting.key} ${figures[`cpuUs_${setting.key}`].toFixed(1)} µs`).join(', ')
  )
  for (const setting of SETTINGS) {
    lines.push(
      `  ratio ${setting.key} / baseline: ${(figures[`replay_${setting.key}`] / baseRate).toFixed(2)} (goal >= 0.5); ` +
        `peak RSS ${figures[`peakRssMb_${setting.key}`].toFixed(0)} MB (goal <= 256 MB, flat: ${figures[`quarterPeakRssMb_${setting.key}`].toFixed(0)} MB on a quarter)`
    )
  }
  return { lines, figures }
}

if (require.main === module) {
  const at = process.argv.indexOf('--baseline')
  if (at >= 0) void runBaseline(process.argv.slice(at + 1))
  else void replayBench().then((result) => console.log(result.lines.join('\n')))
}
