import type { DropReason } from '../../drop-reasons'
import { MAPPED_DROP, MAPPED_ERROR, MAPPED_OUTSIDE, type MappedLines } from '../intake/mapped-lines'
import type { ReplayCounters } from '../reporting/replay-summary'
import type { FileProgress, PendingLine } from '../settling/file-progress'
import type { Settlement } from '../settling/settlement'
import type { EntryHold, HeldEntry } from './entry-hold'

/** What taking one file's mapped lines works with. */
export type TakeContext = {
  hold: EntryHold
  settlement: Settlement
  counters: ReplayCounters
  /** The file's name, for the problems reported. */
  name: string
  file: FileProgress
  report(line: string): void
}

/**
 * Takes one batch's mapped lines (mapped-lines.ts): counts what was read, dropped or
 * malformed, records each event whose entries go into the hold, and marks lines read
 * as it passes them. Waits for room whenever the hold is full, inside a line holding
 * many events too. Returns true when the run stopped meanwhile.
 */
export async function takeMappedLines(mapped: MappedLines, context: TakeContext): Promise<boolean> {
  const { hold, settlement, counters, file } = context
  const stopped = (): boolean => settlement.stopped !== undefined
  let line = -1
  let pending: PendingLine | undefined
  for (let i = 0; i < mapped.length; ) {
    const at = mapped[i++] as number
    const code = mapped[i++] as number
    if (at !== line) {
      if (pending !== undefined) file.settle(pending)
      pending = undefined
      if (line !== -1) file.readUpTo(line + 1)
      line = at
    }
    if (code === MAPPED_ERROR) {
      counters.malformedLines++
      context.report(`${context.name}:${at}: ${mapped[i++] as string}`)
      continue
    }
    counters.eventsRead++
    if (code === MAPPED_OUTSIDE) counters.eventsOutsideRange++
    else if (code === MAPPED_DROP) counters.drop(mapped[i++] as DropReason)
    else {
      const record = settlement.recordEvent(at, file, pending, code, mapped[i++] as string | null)
      pending = record.pending
      for (let n = 0; n < code; n++, i += 4) {
        const entry: HeldEntry = { key: mapped[i] as string, kind: mapped[i + 1] as string, text: mapped[i + 2] as string, record, sent: false }
        if (mapped[i + 3] !== null) entry.bodyFields = mapped[i + 3] as string
        hold.add(entry)
      }
    }
    if (hold.full) await hold.makeRoom(stopped)
    if (stopped()) return true
  }
  if (pending !== undefined) file.settle(pending)
  return false
}
