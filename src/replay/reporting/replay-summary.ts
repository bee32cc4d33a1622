import type { DropReason } from '../../drop-reasons'
import { countDrop, droppedTotal, type DropTally } from '../../pipeline/drop-tally'

/** What one replay run did, counted as it goes; the summary and the exit status are read from it. */
export class ReplayCounters {
  readonly startedAt = Date.now()
  filesRead = 0
  /** Already done according to the checkpoint. */
  filesSkipped = 0
  /** Lines of files still in progress that the checkpoint says an earlier run settled: not read again. */
  linesSkipped = 0
  eventsRead = 0
  eventsSent = 0
  /** Outside --from/--to. */
  eventsOutsideRange = 0
  deadLettered = 0
  readonly dropped: DropTally = {}
  /** Lines that are not JSON, each reported with its file and line. */
  malformedLines = 0
  /** Files cut short: a corrupt gzip member, a truncated gzip, an unreadable file. */
  readErrors = 0
  /** Each file cut short or left unread, and why: listed in the summary whatever the cap on problem lines. */
  readonly damaged: string[] = []
  /** Final outcome of each request: HTTP status, network error code, or `written` for a dry run. */
  readonly requests: Record<string, number> = {}
  retries = 0

  /** Events whose fate is sealed: delivered, dead-lettered, dropped or outside --from/--to. What progress shows. */
  get eventsSettled(): number {
    return this.eventsSent + this.deadLettered + this.droppedTotal + this.eventsOutsideRange
  }

  drop(reason: DropReason): void {
    countDrop(this.dropped, reason)
  }

  request(status: string): void {
    this.requests[status] = (this.requests[status] ?? 0) + 1
  }

  get droppedTotal(): number {
    return droppedTotal(this.dropped)
  }
}

/** The end-of-run summary as `--json` prints it. */
export type ReplaySummary = {
  dryRun: boolean
  files: { read: number; skippedAsDone: number; readErrors: number; damaged?: string[] }
  events: {
    read: number
    sent: number
    dropped: number
    droppedByReason: DropTally
    outsideRange: number
    deadLettered: number
    malformedLines: number
  }
  requests: { total: number; byStatus: Record<string, number>; retries: number }
  deadLetterFile?: string
  /**
   * When this run resumed a checkpoint: the dead letters its file already held, which earlier
   * runs of that checkpoint (perhaps killed before their summary) may have written.
   */
  earlierDeadLetters?: { events: number; file: string }
  checkpoint?: string
  /** When this run continued a checkpoint: what it did not read again because earlier runs settled it. */
  resumed?: { filesAlreadyDone: number; linesSkipped: number }
  /** Set when the run stopped before the end (Koala refused the key, or SIGINT/SIGTERM). */
  stopped?: string
  elapsedMs: number
}

/** The summary of a finished (or stopped) run. */
export function summarize(
  counters: ReplayCounters,
  extra: { dryRun: boolean; deadLetterFile?: string; checkpoint?: string; resumed?: boolean; stopped?: string; earlierDeadLetters?: { events: number; file: string } }
): ReplaySummary {
  const summary: ReplaySummary = {
    dryRun: extra.dryRun,
    files: { read: counters.filesRead, skippedAsDone: counters.filesSkipped, readErrors: counters.readErrors },
    events: {
      read: counters.eventsRead,
      sent: counters.eventsSent,
      dropped: counters.droppedTotal,
      droppedByReason: { ...counters.dropped },
      outsideRange: counters.eventsOutsideRange,
      deadLettered: counters.deadLettered,
      malformedLines: counters.malformedLines
    },
    requests: { total: Object.values(counters.requests).reduce((a, b) => a + b, 0), byStatus: { ...counters.requests }, retries: counters.retries },
    elapsedMs: Date.now() - counters.startedAt
  }
  if (counters.damaged.length > 0) summary.files.damaged = [...counters.damaged]
  if (counters.deadLettered > 0 && extra.deadLetterFile !== undefined) summary.deadLetterFile = extra.deadLetterFile
  if (extra.earlierDeadLetters !== undefined && extra.earlierDeadLetters.events > 0) summary.earlierDeadLetters = extra.earlierDeadLetters
  if (extra.checkpoint !== undefined) summary.checkpoint = extra.checkpoint
  if (extra.resumed === true) summary.resumed = { filesAlreadyDone: counters.filesSkipped, linesSkipped: counters.linesSkipped }
  if (extra.stopped !== undefined) summary.stopped = extra.stopped
  return summary
}

/**
 * 0 when every event read was delivered or dropped by design; 1 when any was dead-lettered or could not be
 * read, by this run or, for a resumed checkpoint, by the runs before it (a killed run printed no summary).
 */
export function exitStatusOf(summary: ReplaySummary): 0 | 1 {
  const { events, files } = summary
  return events.deadLettered > 0 || events.malformedLines > 0 || files.readErrors > 0 || summary.earlierDeadLetters !== undefined ? 1 : 0
}

/** The summary for people: a few lines, numbers grouped by thousands. */
export function formatSummary(summary: ReplaySummary): string[] {
  const n = (value: number) => value.toLocaleString('en-US')
  const { files, events, requests } = summary
  const reasons = Object.entries(events.droppedByReason).map(([reason, count]) => `${reason} ${n(count ?? 0)}`)
  const statuses = Object.entries(requests.byStatus).map(([status, count]) => `${status}: ${n(count)}`)
  const lines = [
    `replay ${summary.stopped !== undefined ? 'STOPPED' : 'done'}${summary.dryRun ? ' (dry run: nothing sent)' : ''} in ${(summary.elapsedMs / 1000).toFixed(1)} s`,
    `  files:    ${n(files.read)} read${files.skippedAsDone > 0 ? `, ${n(files.skippedAsDone)} already done (checkpoint)` : ''}${files.readErrors > 0 ? `, ${n(files.readErrors)} cut short by read errors` : ''}`,
    `  events:   ${n(events.read)} read, ${n(events.sent)} ${summary.dryRun ? 'written' : 'sent'}, ${n(events.dropped)} dropped${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`,
    `  requests: ${n(requests.total)}${statuses.length > 0 ? ` (${statuses.join(', ')})` : ''}, ${n(requests.retries)} retries`
  ]
  if (summary.resumed !== undefined) {
    const { filesAlreadyDone, linesSkipped } = summary.resumed
    lines.push(`  resumed:  ${summary.checkpoint ?? 'a checkpoint'}: ${n(filesAlreadyDone)} files already done, ${n(linesSkipped)} lines settled earlier skipped`)
  }
  if (events.outsideRange > 0) lines.push(`  outside --from/--to: ${n(events.outsideRange)} events`)
  for (const damage of files.damaged ?? []) lines.push(`  DAMAGED: ${damage}`)
  if (events.malformedLines > 0) lines.push(`  malformed lines: ${n(events.malformedLines)} (reported above with file and line)`)
  if (events.deadLettered > 0) lines.push(`  DEAD-LETTERED: ${n(events.deadLettered)} events, in ${summary.deadLetterFile ?? '?'} (replay that file to retry them)`)
  if (summary.earlierDeadLetters !== undefined) {
    const { events: earlier, file } = summary.earlierDeadLetters
    lines.push(`  DEAD-LETTERED EARLIER: ${file} already held ${n(earlier)} events when this resumed run started (replay that file to retry them)`)
  }
  if (summary.stopped !== undefined) lines.push(`  stopped: ${summary.stopped}`)
  return lines
}
