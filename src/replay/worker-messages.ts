import type { MappingFile } from '../mapping/mapping-file-schema'
import type { FileStart, ResumePoint } from './checkpoint'
import type { DeadLetterReason } from './dead-letter'
import type { ArchiveFile } from './find-archive-files'
import type { KoalaDelivery } from './koala-delivery'
import type { CounterSnapshot } from './replay-summary'
import type { ReplayLimits } from './replay-types'

/**
 * What the main thread and a replay worker thread say to each other. Only settled
 * facts travel (positions, dead letters, output bytes, counts), never events: moving
 * parsed events between threads costs about as much as parsing them (~6 µs each).
 */

/** Everything a worker needs, given once as its workerData. */
export type WorkerSetup = {
  /** The mapping file as the main thread read and checked it, compiled again in the worker. */
  mapping: MappingFile
  /** --from/--to (the other parts of the selection only choose files, which the main thread did). */
  selection: { fromMs?: number; toMs?: number }
  /** The run's limits; `bufferEntries` bounds each worker. */
  limits: ReplayLimits
  /** Whether the run keeps a checkpoint: then the worker reports positions. */
  checkpoint: boolean
  /** Undefined for a dry run: the worker posts its output lines instead. */
  delivery?: KoalaDelivery
  /** How often the worker reports bytes and events read, for the progress bar. */
  progressIntervalMs: number
}

export type ToWorker =
  /** The next file to replay and where to start in it; `null` when the queue is empty (or the run is ending). */
  | { type: 'file'; file: ArchiveFile; start: ResumePoint }
  | { type: 'file'; file: null }
  /** One `output` message was written; its memory comes back, to be filled again. */
  | { type: 'written'; buffer: ArrayBuffer }
  /** SIGINT/SIGTERM, or another worker failed: report positions now, then `interrupted`. */
  | { type: 'interrupt' }

export type FromWorker =
  | { type: 'next-file' }
  /** Per file, where it stands (or done), as the worker's own checkpoint would record it. */
  | { type: 'positions'; positions: Array<[string, FileStart]> }
  /** Events to append to the dead-letter file; posted before any position that moves past their lines. */
  | { type: 'dead-letter'; events: string[]; reason: DeadLetterReason }
  /** Whole NDJSON lines of a dry run, as UTF-8, in memory moved (not copied) to the main thread and back. */
  | { type: 'output'; bytes: Uint8Array }
  | { type: 'report'; line: string }
  /** Raw bytes read since the last message, and events read and settled so far. */
  | { type: 'progress'; bytes: number; eventsRead: number; eventsSettled: number }
  /** Positions were posted; its counters so far, for the summary an interrupted run prints. */
  | { type: 'interrupted'; counters: CounterSnapshot }
  /** The worker's last message: its counters, and why it stopped early if it did. */
  | { type: 'end'; counters: CounterSnapshot; stopped?: string }
