import type { ResumePoint } from './checkpoint'

/** A line whose entries are not all settled yet (delivered, dead-lettered, or written by a dry run). */
export type PendingLine = { readonly progress: FileProgress; readonly line: number; unsettled: number }

/**
 * How far one input is settled. Its position is the first line not yet read and the
 * lines below it still unsettled, so a resumed run reads again only those: a line held
 * back by one person's open request no longer holds back every line after it. Lines
 * settle out of order (requests finish in any order); lines without entries (drops,
 * blanks, malformed) settle as they are read. The unsettled lines are at most the
 * entries the run holds (REPLAY_BUFFER_ENTRIES), plus the ones an earlier run left.
 */
export class FileProgress {
  /** Lines with unsettled entries, in line order; settled ones are removed lazily. */
  private pending: PendingLine[] = []
  private head = 0
  private unsettledLines = 0
  /** The first line not yet read and handled, in this run or an earlier one. */
  private nextLine: number
  /** Lines an earlier run left unsettled below its `next`, which this run reads again; those not yet reached from `carriedHead` on. */
  private readonly carried: readonly number[]
  private carriedHead = 0
  private readDone = false

  constructor(start: ResumePoint) {
    this.nextLine = start.next
    this.carried = start.pending
  }

  /** Registers a line that produced `entries` entries still to settle. */
  track(line: number, entries: number): PendingLine {
    const pending: PendingLine = { progress: this, line, unsettled: entries }
    this.pending.push(pending)
    this.unsettledLines++
    return pending
  }

  /** Every line before `line` has been read and handled. */
  readUpTo(line: number): void {
    if (line > this.nextLine) this.nextLine = line
    while (this.carriedHead < this.carried.length && this.carried[this.carriedHead] < line) this.carriedHead++
  }

  /** The input has no more lines (read to the end, or stopped by a read error). */
  finishReading(): void {
    this.readDone = true
  }

  /** One entry of `pending` settled. */
  settle(pending: PendingLine): void {
    if (--pending.unsettled > 0) return
    this.unsettledLines--
    const waiting = this.pending.length - this.head
    // Compact when settled lines dominate: a line stuck behind a long retry must not keep every later line alive.
    if (waiting > 1024 && waiting > 2 * this.unsettledLines) {
      this.pending = this.pending.slice(this.head).filter((p) => p.unsettled > 0)
      this.head = 0
    }
  }

  /** Where a resumed run starts: the first line not yet read, and the lines below it not yet settled. */
  get position(): ResumePoint {
    while (this.head < this.pending.length && this.pending[this.head].unsettled === 0) this.head++
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head)
      this.head = 0
    }
    const lines: number[] = []
    // Lines are tracked as they are read, so in order; a carried line being read again may be tracked already.
    for (let i = this.head; i < this.pending.length; i++) {
      const { line, unsettled } = this.pending[i]
      if (unsettled > 0 && line < this.nextLine && line !== lines[lines.length - 1]) lines.push(line)
    }
    for (let i = this.carriedHead; i < this.carried.length; i++) {
      if (this.carried[i] !== lines[lines.length - 1]) lines.push(this.carried[i])
    }
    // Pending lines just below `next` read the same as a lower `next`, and a checkpoint shorter (often the old single-line form).
    let next = this.nextLine
    while (lines.length > 0 && lines[lines.length - 1] === next - 1) next = lines.pop()!
    return { next, pending: lines }
  }

  /** Read to the end and every line settled. */
  get done(): boolean {
    return this.readDone && this.unsettledLines === 0
  }
}
