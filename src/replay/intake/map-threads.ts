import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { AdapterError } from '../../errors'
import type { MappingFile } from '../../mapping/mapping-file-schema'
import type { LineMapper } from './line-mapper'
import type { MappedLines } from './mapped-lines'
import type { FramedLine } from './parse-archive-lines'

const ENTRY = path.join(__dirname, 'map-thread-entry.js')
/**
 * Batches each thread holds, sent and not yet answered. Two keep a thread busy while the
 * main thread takes its last answer; four ride out the main thread's pauses (a GC, a write).
 */
const BATCHES_PER_THREAD = 4
/**
 * Each map thread's young generation. Measured with 2 threads on the 1M-event bench: 8 MB as fast as 16
 * (the size the --workers threads had) for ~15 MB less peak memory; 4 MB within noise of 8 (-5% to +7%) for ~5 MB less.
 */
const MAP_THREAD_YOUNG_GENERATION_MB = 4
/** Where a batch's mapped lines go once its thread answers. */
type Answer = { resolve(lines: MappedLines): void; reject(error: Error): void }

/** Everything a map thread needs, given once as its workerData. */
export type MapThreadSetup = {
  /** The mapping file as the main thread read and checked it, compiled again in the thread. */
  mapping: MappingFile
  selection: { fromMs?: number; toMs?: number }
  /** Whether each event comes back as JSON too, for dead letters (a run that sends; not a dry run). */
  keepEvents: boolean
}

/**
 * Threads that parse, select, map and render the replay's lines (a LineMapper) while the
 * main thread reads, batches and sends. Batches go out in turn and each thread answers its own in
 * order, so answers are taken in the order the batches were sent: the archive's order,
 * which is what keeps each person's order across the archive.
 */
export class MapThreads implements LineMapper {
  private readonly threads: Array<{ worker: Worker; answers: Answer[] }> = []
  private next = 0
  private failure: Error | undefined

  constructor(count: number, setup: MapThreadSetup, heapMb: number) {
    if (!Number.isInteger(count) || count < 1) throw new AdapterError('INTERNAL', `map threads need a count of at least 1, got ${count}`)
    for (let index = 0; index < count; index++) {
      const worker = new Worker(ENTRY, { workerData: setup, resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: MAP_THREAD_YOUNG_GENERATION_MB } })
      const thread = { worker, answers: [] as Answer[] }
      worker.on('message', (lines: MappedLines) => thread.answers.shift()?.resolve(lines))
      worker.on('error', (error: Error & { code?: string }) =>
        this.fail(
          new AdapterError(
            'REPLAY_THREAD_FAILED',
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `a replay map thread ran out of memory (its heap is limited to ${heapMb} MB); lower REPLAY_MAX_LINE_BYTES or raise REPLAY_WORKER_HEAP_MB`
              : `a replay map thread failed: ${error.stack ?? error.message}`,
            { cause: error }
          )
        )
      )
      worker.on('exit', () => this.fail(new AdapterError('REPLAY_THREAD_FAILED', 'a replay map thread exited before the end of the run')))
      this.threads.push(thread)
    }
  }

  /** Batches to keep sent ahead of the one being taken. */
  get capacity(): number {
    return this.threads.length * BATCHES_PER_THREAD
  }

  /** Sends one batch to the next thread in turn; resolves with its mapped lines. */
  map(framed: FramedLine[]): Promise<MappedLines> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const thread = this.threads[this.next]
    this.next = (this.next + 1) % this.threads.length
    return new Promise((resolve, reject) => {
      thread.answers.push({ resolve, reject })
      thread.worker.postMessage(framed)
    })
  }

  /** Ends the threads; batches still out are refused. */
  async close(): Promise<void> {
    this.failure ??= new AdapterError('REPLAY_THREAD_FAILED', 'the replay map threads were closed')
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()))
  }

  private fail(error: Error): void {
    this.failure ??= error
    for (const thread of this.threads) for (const answer of thread.answers.splice(0)) answer.reject(this.failure)
  }
}
