import path from 'node:path'
import type { Writable } from 'node:stream'
import { Worker } from 'node:worker_threads'
import type { MappingFile } from '../mapping/mapping-file-schema'
import { FROM_THE_START, type Checkpoint, type ResumePoint } from './checkpoint'
import type { DeadLetterFile } from './dead-letter'
import { finishOutput } from './dry-run-sink'
import type { ArchiveFile } from './find-archive-files'
import type { KoalaDelivery } from './koala-delivery'
import type { CounterSnapshot, ReplayCounters } from './replay-summary'
import type { ReplayEnd, ReplayLimits } from './replay-types'
import type { FromWorker, ToWorker, WorkerSetup } from './worker-messages'

const WORKER_ENTRY = path.join(__dirname, 'replay-worker-entry.js')
/**
 * Each worker's young generation (V8's default is 3 × 16 MB per thread). Measured with 2 workers on
 * 300-400k events of the bench: 4 MB ran 40% longer (more survivors promoted); 8 MB ~4% longer than
 * 16 MB, for 16 MB less peak memory; 32 MB no faster than 16, for 30 MB more.
 */
const WORKER_YOUNG_GENERATION_MB = 16
/** How long an interrupted run waits for its workers' last positions before it saves what it has. */
const INTERRUPT_WAIT_MS = 2_000

export type WorkerPoolPlan = {
  workers: number
  files: readonly ArchiveFile[]
  mapping: MappingFile
  selection: { fromMs?: number; toMs?: number }
  /** The buffer bound is each worker's; concurrency and rate are the run's, divided among the workers. */
  limits: ReplayLimits
  delivery?: KoalaDelivery
  /** A dry run's one output, written by this thread only; ended at the end when `end`. */
  output?: { stream: Writable; end: boolean }
  checkpoint?: Checkpoint
  deadLetter: DeadLetterFile
  counters: ReplayCounters
  /** Each worker's heap limit (V8's old generation), MB. */
  heapMb: number
  progressIntervalMs: number
  report(line: string): void
  onBytes(bytes: number): void
}

/** A replay run by worker threads: `interrupt()` (SIGINT, SIGTERM) collects their positions and saves the checkpoint. */
export type WorkerPoolRun = { done: Promise<ReplayEnd>; interrupt(): Promise<void> }

/** A worker thread failed (ran out of memory, or a bug): the run ends with this error, its checkpoint at what was settled. */
export class ReplayWorkerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ReplayWorkerError'
  }
}

type Member = {
  worker: Worker
  /** Events read and settled as last reported, so progress adds only what is new. */
  eventsRead: number
  eventsSettled: number
  /** Its counters when it acknowledged an interrupt, added to the run's by `interrupt()`. */
  interruptedCounters?: CounterSnapshot
  ended: boolean
  /** Recording something it reported failed: nothing it reports after that is recorded. */
  broken: boolean
  exited: Promise<void>
  interrupted?: Promise<void>
  acknowledgeInterrupt?: () => void
}

/**
 * Replays `files` with worker threads, each running the whole pipeline on whole files
 * handed out from one queue. This thread is the only writer of the checkpoint, the
 * dead-letter file and the dry-run output: it records what the workers report, in the
 * order they report it, so a position never runs ahead of what its worker settled.
 */
export function runReplayInWorkers(plan: WorkerPoolPlan): WorkerPoolRun {
  const { checkpoint, counters } = plan
  const queue: Array<{ file: ArchiveFile; start: ResumePoint }> = []
  for (const file of plan.files) {
    const start = checkpoint?.startOf(file.absolute) ?? FROM_THE_START
    if (start === 'done') counters.filesSkipped++
    else queue.push({ file, start })
  }
  let next = 0
  let stopped: string | undefined
  let failure: Error | undefined
  const members: Member[] = []

  const fail = (error: Error): void => {
    if (failure !== undefined) return
    failure = error
    // The others save their positions and end; their files stay where the checkpoint has them.
    void interruptAll().then(() => members.forEach((member) => void member.worker.terminate()))
  }

  const interruptAll = async (): Promise<void> => {
    const waits = members
      .filter((member) => !member.ended)
      .map((member) => {
        member.interrupted ??= new Promise<void>((resolve) => (member.acknowledgeInterrupt = resolve))
        member.worker.postMessage({ type: 'interrupt' } satisfies ToWorker)
        return Promise.race([member.interrupted, member.exited])
      })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(waits), new Promise((resolve) => (timer = setTimeout(resolve, INTERRUPT_WAIT_MS)))])
    clearTimeout(timer)
    flushCheckpoint()
  }

  /** A checkpoint that cannot be written ends the run, as a dead letter that cannot be written does. */
  const flushCheckpoint = (): void => {
    try {
      checkpoint?.flush()
    } catch (error) {
      fail(new ReplayWorkerError((error as Error).message, { cause: error }))
    }
  }
  const flushTimer = checkpoint === undefined ? undefined : setInterval(flushCheckpoint, plan.limits.checkpointIntervalMs)
  flushTimer?.unref()

  const handle = (member: Member, message: FromWorker): void => {
    const { worker } = member
    switch (message.type) {
      case 'next-file': {
        const job = stopped === undefined && failure === undefined ? queue[next++] : undefined
        worker.postMessage((job === undefined ? { type: 'file', file: null } : { type: 'file', ...job }) satisfies ToWorker)
        return
      }
      case 'positions':
        // Written by this thread's own timer, not per message: N workers would otherwise fsync N times per interval.
        checkpoint?.record(message.positions)
        return
      case 'dead-letter':
        // Synchronous and fsynced: the positions this worker posts next are handled only after it returns.
        plan.deadLetter.write(message.events, message.reason)
        return
      case 'output': {
        const { buffer } = message.bytes
        // The memory goes back to its worker once written: dead chunks waiting here for a GC took ~60 MB (measured).
        plan.output!.stream.write(message.bytes, () => worker.postMessage({ type: 'written', buffer: buffer as ArrayBuffer } satisfies ToWorker, [buffer as ArrayBuffer]))
        return
      }
      case 'report':
        plan.report(message.line)
        return
      case 'progress':
        plan.onBytes(message.bytes)
        counters.eventsRead += message.eventsRead - member.eventsRead
        counters.workerEventsSettled += message.eventsSettled - member.eventsSettled
        member.eventsRead = message.eventsRead
        member.eventsSettled = message.eventsSettled
        return
      case 'interrupted':
        member.interruptedCounters = message.counters
        member.acknowledgeInterrupt?.()
        return
      case 'end':
        takeCounters(member, message.counters)
        stopped ??= message.stopped
        void worker.terminate()
        return
    }
  }

  /** Replaces what a worker reported as it went by its own counts, once. */
  const takeCounters = (member: Member, snapshot: CounterSnapshot): void => {
    if (member.ended) return
    counters.eventsRead -= member.eventsRead
    counters.workerEventsSettled -= member.eventsSettled
    counters.add(snapshot)
    member.eventsRead = 0
    member.eventsSettled = 0
    member.ended = true
  }

  /** SIGINT, SIGTERM: positions saved, and the counts so far of the workers that answered in time. */
  const interrupt = async (): Promise<void> => {
    await interruptAll()
    for (const member of members) if (member.interruptedCounters !== undefined) takeCounters(member, member.interruptedCounters)
  }

  const count = Math.max(1, Math.min(plan.workers, queue.length))
  for (let index = 0; index < count; index++) {
    const setup: WorkerSetup = {
      mapping: plan.mapping,
      selection: plan.selection,
      // The whole bound for each: every worker sees every person, and halving it halved the entries per request
      // (16.5 → 8.6 on the bench archive), doubling Koala requests, for 12 MB less peak memory.
      limits: plan.limits,
      checkpoint: checkpoint !== undefined,
      ...(plan.delivery !== undefined
        ? {
            delivery: {
              ...plan.delivery,
              concurrency: share(plan.delivery.concurrency, count, index),
              ...(plan.delivery.rate !== undefined ? { rate: plan.delivery.rate / count } : {})
            }
          }
        : {}),
      progressIntervalMs: plan.progressIntervalMs
    }
    const worker = new Worker(WORKER_ENTRY, { workerData: setup, resourceLimits: { maxOldGenerationSizeMb: plan.heapMb, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } })
    // Not events.once: it rejects on the 'error' that comes before 'exit'.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    const member: Member = { worker, eventsRead: 0, eventsSettled: 0, ended: false, broken: false, exited }
    members.push(member)
    worker.on('message', (message: FromWorker) => {
      if (member.broken && message.type !== 'interrupted') return
      try {
        handle(member, message)
      } catch (error) {
        // Writing a dead letter failed: no later position of this worker may be recorded.
        member.broken = true
        fail(new ReplayWorkerError((error as Error).message, { cause: error }))
      }
    })
    worker.on('error', (error: Error & { code?: string }) => {
      fail(
        new ReplayWorkerError(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `a replay worker ran out of memory (its heap is limited to ${plan.heapMb} MB); lower REPLAY_BUFFER_ENTRIES or REPLAY_WORKERS (or REPLAY_MAX_LINE_BYTES)`
            : `a replay worker failed: ${error.stack ?? error.message}`,
          { cause: error }
        )
      )
    })
    void member.exited.then(() => {
      if (!member.ended) fail(new ReplayWorkerError('a replay worker exited before the end of its files'))
    })
  }

  const done = (async (): Promise<ReplayEnd> => {
    await Promise.all(members.map((member) => member.exited))
    clearInterval(flushTimer)
    flushCheckpoint()
    if (failure !== undefined) throw failure
    if (plan.output !== undefined) await finishOutput(plan.output.stream, plan.output.end)
    return stopped === undefined ? {} : { stopped }
  })()
  // Settled by whoever awaits it; failures are reported there.
  done.catch(() => {})
  return { done, interrupt }
}

/** Worker `index`'s part of `total` (at least 1): the parts add up to the total when it is at least `count`. */
function share(total: number, count: number, index: number): number {
  return Math.max(1, Math.floor(total / count) + (index < total % count ? 1 : 0))
}
