/** A line whose entries are not all settled yet (delivered, dead-lettered, or written by a dry run). */
export type PendingLine = { readonly progress: FileProgress; readonly line: number; unsettled: number }

/**
 * How far one input is settled: every line below `safeLine` is done for good, so a
 * resumed run starts there. Lines settle out of order (requests finish in any
 * order); lines without entries (drops, blanks, malformed) settle as they are read.
 */
export class FileProgress {
  /** Lines with unsettled entries, in line order; settled ones are removed lazily. */
  private pending: PendingLine[] = []
  private head = 0
  private unsettledLines = 0
  /** The first line not yet read and handled. */
  private nextLine: number
  private readDone = false

  constructor(startLine: number) {
    this.nextLine = startLine
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
    this.nextLine = line
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

  /** The lowest line not yet settled: a resumed run starts reading there. */
  get safeLine(): number {
    while (this.head < this.pending.length && this.pending[this.head].unsettled === 0) this.head++
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head)
      this.head = 0
    }
    return this.head < this.pending.length ? Math.min(this.pending[this.head].line, this.nextLine) : this.nextLine
  }

  /** Read to the end and every line settled. */
  get done(): boolean {
    return this.readDone && this.unsettledLines === 0
  }
}
