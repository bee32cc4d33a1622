import type { ReplayCounters } from '../reporting/replay-summary'
import type { CheckpointStore, FileStart } from './checkpoint'
import type { DeadLetterReason, DeadLetterWriter } from './dead-letter'
import type { FileProgress, PendingLine } from './file-progress'
import type { SinkOutcome } from './replay-sink'

/**
 * One Segment event with entries still to settle, and what to dead-letter if they fail:
 * its JSON, or null when the sink never refuses (a dry run keeps no copy of the events it holds).
 */
export type EventRecord = { pending: PendingLine; unsettled: number; failed: boolean; event: string | null }

/**
 * What becomes of the replay's events once their requests are answered: counted sent,
 * dead-lettered, or (Koala refused the key) left unsettled for the next run; and the
 * checkpoint that records, per file, how far that got. Also why the run stops early,
 * when something here or elsewhere says so: the first reason is the one kept.
 */
export class Settlement {
  /** Why the run stops early; undefined while it goes on. */
  stopped: string | undefined
  /** A dead letter or the checkpoint could not be written (a full disk): the run stops, and ends with this error. */
  private writeError: unknown
  /** Files not yet reported done to the checkpoint (with one), by absolute path. */
  private readonly progress = new Map<string, FileProgress>()

  constructor(
    private readonly counters: ReplayCounters,
    private readonly deadLetters: DeadLetterWriter,
    private readonly checkpoint: CheckpointStore | undefined
  ) {}

  /** The record of an event of `line` with `entries` entries about to be held; the line's pending record is made on its first. */
  recordEvent(line: number, file: FileProgress, pending: PendingLine | undefined, entries: number, event: string | null): EventRecord {
    // One extra count guards the line while its events are added: a request closed meanwhile must not settle it early.
    pending ??= file.track(line, 1)
    pending.unsettled += entries
    return { pending, unsettled: entries, failed: false, event }
  }

  /** Settles the events of one answered request (an event with entries in several requests settles with its last). */
  settle(events: readonly EventRecord[], outcome: SinkOutcome): void {
    this.counters.request(outcome.status)
    if (!outcome.ok && outcome.stop === true) {
      // Left unsettled on purpose: the checkpoint keeps these lines for the run that follows the fix.
      // Status and code only: Koala's text may echo the key or an email, and this line is printed.
      const code = outcome.reason.code === undefined ? '' : `, code ${outcome.reason.code}`
      this.stop(`Koala refused the key (HTTP ${outcome.status}${code}); fix it and run the same command again`)
      return
    }
    if (!outcome.ok && !this.deadLetter(events, outcome.reason)) return
    for (const record of events) {
      if (--record.unsettled === 0) {
        if (record.failed) this.counters.deadLettered++
        else this.counters.eventsSent++
      }
      record.pending.progress.settle(record.pending)
    }
  }

  stop(reason: string): void {
    this.stopped ??= reason
  }

  /** Follows a file for the checkpoint (a run without one keeps a file's progress only as long as its unsettled lines). */
  follow(absolute: string, file: FileProgress): void {
    if (this.checkpoint !== undefined) this.progress.set(absolute, file)
  }

  /** Writes where every file stands to the checkpoint, if there is one; a failure to write stops the run. */
  saveCheckpoint(): void {
    try {
      this.checkpoint?.save(this.positions())
    } catch (error) {
      this.failWriting(error)
    }
  }

  /** Throws the write error that stopped the run, if one did. */
  throwWriteError(): void {
    if (this.writeError !== undefined) throw this.writeError
  }

  /**
   * Where the files in progress stand. A file wholly settled is reported 'done' once and
   * forgotten (the checkpoint keeps it), so memory does not grow with the number of files.
   */
  private *positions(): Generator<[string, FileStart]> {
    for (const [absolute, file] of this.progress) {
      if (file.done) {
        this.progress.delete(absolute)
        yield [absolute, 'done']
      } else yield [absolute, file.position]
    }
  }

  /** Writes the dead letters of a failed request; false when they could not be written, and the events must stay unsettled. */
  private deadLetter(events: readonly EventRecord[], reason: DeadLetterReason): boolean {
    if (this.writeError !== undefined) return false
    // An event whose entries span several failed requests is written once.
    const lines: string[] = []
    for (const record of events) {
      if (record.failed) continue
      record.failed = true
      // Null only from a sink that never refuses: a run that sends keeps every event's JSON.
      lines.push(record.event!)
    }
    try {
      this.deadLetters.write(lines, reason)
      return true
    } catch (error) {
      this.failWriting(error)
      return false
    }
  }

  private failWriting(error: unknown): void {
    this.writeError ??= error
    this.stop('a file could not be written')
  }
}
