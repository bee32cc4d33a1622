import { accessSync, constants as fsConstants, createWriteStream, openSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { loadConfig, MAX_REPLAY_MAP_THREADS, type ServiceConfig } from '../config'
import { AdapterError } from '../errors'
import { Checkpoint } from '../replay/settling/checkpoint'
import { countDeadLetters, DeadLetterFile } from '../replay/settling/dead-letter'
import { createDryRunSink } from '../replay/settling/dry-run-sink'
import { findArchiveFiles, type ArchiveFile } from '../replay/intake/find-archive-files'
import { mapInThisThread, type LineMapper } from '../replay/intake/line-mapper'
import { MapThreads } from '../replay/intake/map-threads'
import { startKoalaDelivery, type KoalaDelivery } from '../replay/settling/koala-delivery'
import { openArchiveFile } from '../replay/intake/read-archive-lines'
import { startProgress, type ProgressMode } from '../replay/reporting/replay-progress'
import { parseDateRange, parseShard, type ReplaySelection } from '../replay/intake/replay-selection'
import { exitStatusOf, formatSummary, ReplayCounters, summarize, type ReplaySummary } from '../replay/reporting/replay-summary'
import { loadMappingFile } from '../mapping/load-mapping'
import { runReplay } from '../replay/run-replay'
import { resolveWorkspace } from '../workspace/resolve-workspace'
import { mappingsDir, workspaceMappingFile } from './mappings-dir'

export type ReplayCommandOptions = {
  workspace: string
  mappings?: string
  from?: string
  to?: string
  source?: string[]
  shard?: string
  concurrency?: string
  rate?: string
  /** Gone: refused with a usage error that names what replaces it. */
  workers?: string
  mapThreads?: string
  dryRun?: boolean
  out?: string
  checkpoint?: string
  deadLetter?: string
  json?: boolean
  quiet?: boolean
}

/** Where dead letters go when --dead-letter is not given: the working folder, so nothing is lost silently. */
const DEFAULT_DEAD_LETTER_FILE = 'replay-dead-letter.ndjson'

/** Why --workers and REPLAY_WORKERS are refused rather than ignored: a run that asked for them should not silently run otherwise. */
const WORKERS_GONE =
  'is gone: it was slower than the default map threads (--map-threads) and lost a person\'s order; use --shard K/N to split a replay across machines'

/** A dead letter or the checkpoint could not be written (a full disk): not 1, which says dead letters were written. */
const EXIT_WRITE_FAILED = 3

/** Problem lines shown before the rest are only counted: a broken archive must not bury the summary. */
const MAX_REPORTED = 100

/**
 * `koala-adapter replay`: replays archives into Koala (or, with --dry-run, writes the
 * requests). Resolves to the exit status: 0 all delivered or dropped by design, 1 some
 * dead-lettered or unreadable, 2 when Koala refused the key, 3 when a dead letter or the checkpoint
 * could not be written. Usage and mapping errors throw (exit 2).
 */
export async function runReplayCommand(paths: string[], options: ReplayCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  checkUsage(paths, options, env)
  const config = loadSettings(env)
  const selection: ReplaySelection = {
    ...parseDateRange(options.from, options.to),
    ...(options.source !== undefined && options.source.length > 0 ? { sources: new Set(options.source) } : {}),
    ...(options.shard !== undefined ? { shard: parseShard(options.shard) } : {})
  }
  const concurrency = options.concurrency === undefined ? config.replayConcurrency : parseCount('--concurrency', options.concurrency)
  const rate = options.rate === undefined ? undefined : parseRate(options.rate)
  const mapThreadsWanted = options.mapThreads === undefined ? config.replayMapThreads : parseMapThreads(options.mapThreads)
  const loaded = loadMappingFile(workspaceMappingFile(mappingsDir(options.mappings), options.workspace))
  // A replay has no local mode: an unset key variable is an error naming it and the file, never a simulator.
  const target = options.dryRun === true ? undefined : resolveWorkspace(loaded, { koalaBaseUrl: config.koalaBaseUrl, env }).workspace.koala

  const deadLetterPath = options.deadLetter ?? DEFAULT_DEAD_LETTER_FILE
  const ownFiles = [deadLetterPath, options.checkpoint, options.out].filter((file): file is string => file !== undefined).map((file) => path.resolve(file))
  if (paths.some((given) => given !== '-' && path.resolve(given) === path.resolve(deadLetterPath))) {
    throw new AdapterError('USAGE', `${deadLetterPath} is this run's dead-letter file; to replay it, give another --dead-letter`)
  }
  // Files this run writes are checked now: failing on the first dead letter, an hour in, would be worse.
  for (const file of [deadLetterPath, options.checkpoint].filter((f): f is string => f !== undefined)) assertWritableFolder(file)
  const outFd = options.dryRun === true && options.out !== undefined ? openOutput(options.out) : undefined
  const found = findArchiveFiles(paths, selection, new Set(ownFiles))
  const unknownSources = (options.source ?? []).filter((source) => !found.sourcesFound.includes(source))
  if (unknownSources.length > 0) {
    // Exit 1, not a usage error: the command is well formed, the archive just does not hold what it names (a typo, or the wrong archive).
    const listed = found.sourcesFound.length > 0 ? found.sourcesFound.join(', ') : 'none (no segment-logs/<source-id>/ folders)'
    process.stderr.write(`replay: --source ${unknownSources.join(', ')}: no such source in ${paths.join(', ')}; sources found: ${listed}\n`)
    return 1
  }
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

  // Counted before this run appends: a run killed earlier printed no summary of what it dead-lettered.
  const earlierDeadLetters = checkpoint?.resumed === true ? { events: countDeadLetters(deadLetterPath), file: deadLetterPath } : undefined
  const counters = new ReplayCounters()
  let bytesDone = 0
  const progressMode: ProgressMode = options.quiet === true ? 'off' : process.stderr.isTTY ? 'bar' : 'lines'
  const toRead = found.files.filter((file) => checkpoint?.startOf(file.absolute) !== 'done')
  const feed = { bytesDone: () => bytesDone, bytesTotal: toRead.reduce((sum, file) => sum + file.size, 0), eventsRead: () => counters.eventsRead, eventsSettled: () => counters.eventsSettled }
  let reported = 0
  const progress = startProgress(progressMode, feed, process.stderr, config.replayProgressIntervalMs)
  const report = (line: string): void => {
    if (++reported <= MAX_REPORTED) progress.log(`replay: ${line}`)
    else if (reported === MAX_REPORTED + 1) progress.log(`replay: more problems follow; they are counted in the summary, not shown`)
  }
  for (const line of found.skipped) report(line)
  if (found.outsideLayout > 0) report(`${found.outsideLayout} files are not under segment-logs/<source-id>/ and were left out by --source`)
  if (found.files.length === 0) report(`no archive files (*.gz, *.json, *.jsonl, *.ndjson) selected in ${paths.join(', ')}`)

  const limits = {
    bufferEntries: config.replayBufferEntries,
    maxHoldMs: config.replayMaxHoldMs,
    checkpointIntervalMs: config.replayCheckpointIntervalMs,
    maxLineBytes: config.replayMaxLineBytes
  }
  const output = target !== undefined ? undefined : { stream: outFd === undefined ? process.stdout : createWriteStream('', { fd: outFd }), end: options.out !== undefined }
  const delivery: KoalaDelivery | undefined = target === undefined ? undefined : { target, config, concurrency, ...(rate !== undefined ? { rate } : {}) }

  const deadLetter = new DeadLetterFile(deadLetterPath)
  const interrupt = new AbortController()
  const koala = delivery === undefined ? undefined : startKoalaDelivery(delivery, counters)
  const threadCount = mapThreadsWanted === 'auto' ? autoMapThreads(paths.includes('-') ? Infinity : feed.bytesTotal) : mapThreadsWanted
  const startMapper = (keepEvents: boolean): LineMapper =>
    threadCount === 0
      ? mapInThisThread(loaded.compiled, { selection, keepEvents })
      : new MapThreads(threadCount, { mapping: loaded.compiled.config, selection: { fromMs: selection.fromMs, toMs: selection.toMs }, keepEvents }, config.replayWorkerHeapMb)
  const done = runReplay({
    files: found.files,
    open: openArchiveFile,
    startMapper,
    sink: koala?.sink ?? createDryRunSink(output!.stream, { end: output!.end }),
    deadLetter,
    checkpoint,
    counters,
    limits,
    report,
    onBytes: (bytes) => (bytesDone += bytes),
    interrupt: interrupt.signal
  }).finally(() => koala?.close())

  const summaryOf = (stopped: string | undefined) =>
    summarize(counters, { dryRun: target === undefined, deadLetterFile: deadLetterPath, checkpoint: options.checkpoint, resumed: checkpoint?.resumed === true, stopped, earlierDeadLetters })
  const printSummary = (summary: ReplaySummary): void => {
    if (options.json === true) process.stdout.write(JSON.stringify(summary) + '\n')
    else process.stderr.write(formatSummary(summary).join('\n') + '\n')
  }

  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = true
    progress.stop()
    // The abort listener saves the checkpoint synchronously.
    interrupt.abort()
    const resume = options.checkpoint === undefined ? '' : `; progress is saved in ${options.checkpoint}: run the same command to resume`
    // What was done so far: requests still in flight are not counted, and a resumed run sends them again.
    printSummary(summaryOf(`interrupted (${signal})`))
    process.stderr.write(`replay: ${signal}: stopped${resume}\n`)
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    const end = await done
    progress.stop()
    const summary = summaryOf(end.stopped)
    printSummary(summary)
    return end.stopped !== undefined ? 2 : exitStatusOf(summary)
  } catch (error) {
    const writeFailed = writeFailureOf(error)
    if (!(error instanceof AdapterError && error.code === 'REPLAY_THREAD_FAILED') && writeFailed === undefined) throw error
    progress.stop()
    const resume = options.checkpoint === undefined ? '' : `; ${options.checkpoint} holds what was settled: ${writeFailed !== undefined ? 'make room and ' : ''}run the same command to resume`
    process.stderr.write(`replay: stopped: ${(writeFailed ?? (error as Error)).message}${resume}\n`)
    return writeFailed !== undefined ? EXIT_WRITE_FAILED : 1
  } finally {
    progress.stop()
    deadLetter.close()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function checkUsage(paths: string[], options: ReplayCommandOptions, env: NodeJS.ProcessEnv): void {
  const usage = (message: string) => new AdapterError('USAGE', message)
  if (options.workers !== undefined) throw usage(`--workers ${WORKERS_GONE}`)
  if (env.REPLAY_WORKERS !== undefined && env.REPLAY_WORKERS !== '') throw usage(`REPLAY_WORKERS ${WORKERS_GONE}; unset it`)
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

function parseCount(flag: string, value: string, max = 1000): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new AdapterError('USAGE', `${flag} must be a whole number from 1 to ${max}, got "${value}"`)
  return n
}

/** Map threads below this much input cost more to start (~0.2 s) than they save. */
const MAP_THREADS_MIN_BYTES = 1024 * 1024

/** `auto` map threads: 2 when there is a second core to run them and enough input to pay for them. */
function autoMapThreads(inputBytes: number): number {
  return availableParallelism() >= 2 && inputBytes >= MAP_THREADS_MIN_BYTES ? 2 : 0
}

function parseMapThreads(value: string): number | 'auto' {
  if (value === 'auto') return value
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > MAX_REPLAY_MAP_THREADS) throw new AdapterError('USAGE', `--map-threads must be auto or a whole number from 0 to ${MAX_REPLAY_MAP_THREADS}, got "${value}"`)
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

/** The WRITE_FAILED error a run ended with. */
function writeFailureOf(error: unknown): AdapterError | undefined {
  return error instanceof AdapterError && error.code === 'WRITE_FAILED' ? error : undefined
}
