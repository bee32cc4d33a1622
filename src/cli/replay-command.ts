import { accessSync, constants as fsConstants, createReadStream, createWriteStream, openSync } from 'node:fs'
import path from 'node:path'
import { loadConfig, type ServiceConfig } from '../config'
import { AdapterError } from '../errors'
import { createKoalaClient, type KoalaClient } from '../koala/koala-client'
import { Checkpoint } from '../replay/checkpoint'
import { DeadLetterFile } from '../replay/dead-letter'
import { createDryRunSink } from '../replay/dry-run-sink'
import { findArchiveFiles, type ArchiveFile } from '../replay/find-archive-files'
import { createKoalaSink } from '../replay/koala-sink'
import { RateLimit } from '../replay/rate-limit'
import { startProgress, type ProgressMode } from '../replay/replay-progress'
import { parseDateRange, parseShard, type ReplaySelection } from '../replay/replay-selection'
import type { ReplaySink } from '../replay/replay-sink'
import { exitStatusOf, formatSummary, ReplayCounters, summarize } from '../replay/replay-summary'
import { koalaTargetOf, loadReplayWorkspace } from '../replay/replay-workspace'
import { runReplay } from '../replay/run-replay'
import { BUILTIN_MAPPINGS_DIR, mappingsDir } from './mappings-dir'

export type ReplayCommandOptions = {
  workspace: string
  mappings?: string
  from?: string
  to?: string
  source?: string[]
  shard?: string
  concurrency?: string
  rate?: string
  dryRun?: boolean
  out?: string
  checkpoint?: string
  deadLetter?: string
  json?: boolean
  quiet?: boolean
}

/** Where dead letters go when --dead-letter is not given: the working folder, so nothing is lost silently. */
export const DEFAULT_DEAD_LETTER_FILE = 'replay-dead-letter.ndjson'

/** Problem lines shown before the rest are only counted: a broken archive must not bury the summary. */
const MAX_REPORTED = 100

/**
 * `koala-adapter replay`: replays archives into Koala (or, with --dry-run, writes the
 * requests). Resolves to the exit status: 0 all delivered or dropped by design, 1 some
 * dead-lettered or unreadable, 2 when Koala refused the key. Usage and mapping errors throw (exit 2).
 */
export async function runReplayCommand(paths: string[], options: ReplayCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  checkUsage(paths, options)
  const config = loadSettings(env)
  const selection: ReplaySelection = {
    ...parseDateRange(options.from, options.to),
    ...(options.source !== undefined && options.source.length > 0 ? { sources: new Set(options.source) } : {}),
    ...(options.shard !== undefined ? { shard: parseShard(options.shard) } : {})
  }
  const concurrency = options.concurrency === undefined ? Math.max(1, config.replayConcurrency) : parseCount('--concurrency', options.concurrency)
  const rate = options.rate === undefined ? undefined : parseRate(options.rate)
  const loaded = loadReplayWorkspace(mappingsDir(options.mappings), path.join(BUILTIN_MAPPINGS_DIR, 'default.json'), options.workspace)
  const target = options.dryRun === true ? undefined : koalaTargetOf(loaded, config, env)

  const deadLetterPath = options.deadLetter ?? DEFAULT_DEAD_LETTER_FILE
  const ownFiles = [deadLetterPath, options.checkpoint, options.out].filter((file): file is string => file !== undefined).map((file) => path.resolve(file))
  if (paths.some((given) => given !== '-' && path.resolve(given) === path.resolve(deadLetterPath))) {
    throw new AdapterError('USAGE', `${deadLetterPath} is this run's dead-letter file; to replay it, give another --dead-letter`)
  }
  // Files this run writes are checked now: failing on the first dead letter, an hour in, would be worse.
  for (const file of [deadLetterPath, options.checkpoint].filter((f): f is string => f !== undefined)) assertWritableFolder(file)
  const outFd = options.dryRun === true && options.out !== undefined ? openOutput(options.out) : undefined
  const found = findArchiveFiles(paths, selection, new Set(ownFiles))
  const checkpoint =
    options.checkpoint === undefined
      ? undefined
      : Checkpoint.open(options.checkpoint, {
          workspace: options.workspace,
          paths: paths.map((given) => path.resolve(given)),
          ...(options.from !== undefined ? { from: options.from } : {}),
          ...(options.to !== undefined ? { to: options.to } : {}),
          ...(options.source !== undefined && options.source.length > 0 ? { sources: [...options.source].sort() } : {}),
          ...(options.shard !== undefined ? { shard: options.shard } : {})
        })

  const counters = new ReplayCounters()
  let bytesDone = 0
  const progressMode: ProgressMode = options.quiet === true ? 'off' : process.stderr.isTTY ? 'bar' : 'lines'
  const toRead = found.files.filter((file) => checkpoint?.startOf(file.absolute) !== 'done')
  const feed = { bytesDone: () => bytesDone, bytesTotal: toRead.reduce((sum, file) => sum + file.size, 0), events: () => counters.eventsRead }
  let reported = 0
  const progress = startProgress(progressMode, feed, process.stderr, config.replayProgressIntervalMs)
  const report = (line: string): void => {
    if (++reported <= MAX_REPORTED) progress.log(`replay: ${line}`)
    else if (reported === MAX_REPORTED + 1) progress.log(`replay: more problems follow; they are counted in the summary, not shown`)
  }
  for (const line of found.skipped) report(line)
  if (found.outsideLayout > 0) report(`${found.outsideLayout} files are not under segment-logs/<source-id>/ and were left out by --source`)
  if (found.files.length === 0) report(`no archive files (*.gz, *.json, *.jsonl, *.ndjson) selected in ${paths.join(', ')}`)

  let client: KoalaClient | undefined
  let sink: ReplaySink
  if (target === undefined) {
    const out = outFd === undefined ? process.stdout : createWriteStream('', { fd: outFd })
    sink = createDryRunSink(out, { end: options.out !== undefined })
  } else {
    // A replay has no one waiting on its answer: it may retry longer than a door, within each request's budget.
    // Sockets for every request in flight: one waiting for a socket would spend its attempt timeout in the queue.
    client = createKoalaClient(
      { ...config, koalaMaxRetries: config.replayMaxRetries, koalaMaxSockets: Math.max(config.koalaMaxSockets, concurrency) },
      { onRetry: () => counters.retries++ }
    )
    sink = createKoalaSink(client, target, { concurrency, budgetMs: config.replayRequestBudgetMs, rate: rate === undefined ? undefined : new RateLimit(rate) })
  }

  const interrupt = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    interrupt.abort()
    progress.stop()
    const resume = options.checkpoint === undefined ? '' : `; progress is saved in ${options.checkpoint}: run the same command to resume`
    process.stderr.write(`\nreplay: ${signal}: stopped${resume}\n`)
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const deadLetter = new DeadLetterFile(deadLetterPath)
  try {
    const end = await runReplay({
      files: found.files,
      open: openInput,
      mapping: loaded.compiled,
      selection,
      sink,
      deadLetter,
      checkpoint,
      counters,
      limits: {
        bufferEntries: Math.max(1, config.replayBufferEntries),
        maxHoldMs: config.replayMaxHoldMs,
        checkpointIntervalMs: config.replayCheckpointIntervalMs,
        maxLineBytes: config.replayMaxLineBytes
      },
      report,
      onBytes: (bytes) => (bytesDone += bytes),
      interrupt: interrupt.signal
    })
    progress.stop()
    const summary = summarize(counters, { dryRun: target === undefined, deadLetterFile: deadLetterPath, checkpoint: options.checkpoint, stopped: end.stopped })
    if (options.json === true) process.stdout.write(JSON.stringify(summary) + '\n')
    else process.stderr.write(formatSummary(summary).join('\n') + '\n')
    return end.stopped !== undefined ? 2 : exitStatusOf(summary)
  } finally {
    progress.stop()
    client?.close()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function openInput(file: ArchiveFile): AsyncIterable<Buffer> {
  // 256 KB reads: fewer round trips through the event loop than the 64 KB default, measurably faster on big archives.
  return file.absolute === '-' ? process.stdin : createReadStream(file.absolute, { highWaterMark: 256 * 1024 })
}

function checkUsage(paths: string[], options: ReplayCommandOptions): void {
  const usage = (message: string) => new AdapterError('USAGE', message)
  if (paths.length === 0) throw usage('replay needs at least one PATH (a file, a folder, or - for stdin)')
  const stdin = paths.includes('-')
  if (options.out !== undefined && options.dryRun !== true) throw usage('--out is for --dry-run: a real replay sends to Koala')
  if (options.checkpoint !== undefined && options.dryRun === true) throw usage('--checkpoint is for real replays: a dry run sends nothing to resume')
  if (options.checkpoint !== undefined && stdin) throw usage('--checkpoint cannot resume stdin: give the files instead of -')
  if (options.shard !== undefined && stdin) throw usage('--shard splits files: it cannot split stdin')
  if (options.json === true && options.dryRun === true && options.out === undefined) {
    throw usage('--json with --dry-run needs --out FILE: the requests already go to stdout')
  }
}

function loadSettings(env: NodeJS.ProcessEnv): Readonly<ServiceConfig> {
  try {
    return loadConfig(env)
  } catch (error) {
    throw new AdapterError('USAGE', (error as Error).message)
  }
}

function parseCount(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new AdapterError('USAGE', `${flag} must be a whole number from 1 to 1000, got "${value}"`)
  return n
}

function parseRate(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new AdapterError('USAGE', `--rate must be a number of requests per second above 0, got "${value}"`)
  return n
}

function assertWritableFolder(file: string): void {
  const folder = path.dirname(path.resolve(file))
  try {
    accessSync(folder, fsConstants.W_OK)
  } catch {
    throw new AdapterError('USAGE', `cannot write ${file}: ${folder} does not exist or is not writable`)
  }
}

function openOutput(file: string): number {
  try {
    return openSync(file, 'w')
  } catch (error) {
    throw new AdapterError('USAGE', `cannot write --out ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}
