import { takeMappedLines } from './holding/take-mapped-lines'
import { EntryHold } from './holding/entry-hold'
import { findGzipDamage } from './intake/check-gzip'
import type { ArchiveFile } from './intake/find-archive-files'
import type { StartLineMapper } from './intake/line-mapper'
import { mapFileLines } from './intake/map-file-lines'
import type { ReplayCounters } from './reporting/replay-summary'
import { FROM_THE_START, linesSettledBefore, type CheckpointStore, type ResumePoint } from './settling/checkpoint'
import type { DeadLetterWriter } from './settling/dead-letter'
import { FileProgress } from './settling/file-progress'
import type { ReplaySink } from './settling/replay-sink'
import { Settlement } from './settling/settlement'
import type { ReplayEnd, ReplayLimits } from './replay-types'

export type ReplayPlan = {
  /** Read in turn, in the order given. */
  files: Iterable<ArchiveFile> | AsyncIterable<ArchiveFile>
  open(file: ArchiveFile): AsyncIterable<Buffer>
  /**
   * Starts what parses, selects and maps the lines: map threads, or this thread
   * (line-mapper.ts). Either way every other step stays here, in archive order. The run
   * closes it at its end.
   */
  startMapper: StartLineMapper
  sink: ReplaySink
  deadLetter: DeadLetterWriter
  checkpoint?: CheckpointStore
  counters: ReplayCounters
  limits: ReplayLimits
  /** Problems found on the way (file and line), for the user. */
  report(line: string): void
  onBytes(bytes: number): void
  /** Aborting saves the checkpoint at once (SIGINT, SIGTERM); the caller then exits. */
  interrupt?: AbortSignal
}

/** How reading one file ended: only 'end' lets the file become done. */
type FileEnd = 'end' | 'stopped' | 'read-error'

/**
 * Replays the plan's files into its sink: reads each file as a stream (intake/), maps
 * every event, batches entries per person across events and files in a hold of at most
 * `bufferEntries` entries (holding/; reading pauses at the bound), and settles each
 * answered request (settling/). Every event ends delivered, dropped (counted by reason)
 * or dead-lettered; the checkpoint records, per file, the first line not yet read and
 * the lines below it not yet settled, so a run killed at any point resumes without a
 * gap and sends again only what was unsettled.
 */
export async function runReplay(plan: ReplayPlan): Promise<ReplayEnd> {
  const { limits, counters, sink, checkpoint } = plan
  const settlement = new Settlement(counters, plan.deadLetter, checkpoint)
  const hold = new EntryHold(sink, limits.bufferEntries, (events, outcome) => settlement.settle(events, outcome))
  const mapper = plan.startMapper(sink.canRefuse)
  const checkpointTimer = checkpoint === undefined ? undefined : setInterval(() => settlement.saveCheckpoint(), limits.checkpointIntervalMs)
  checkpointTimer?.unref()
  hold.startHoldTimer(limits.maxHoldMs)
  const onInterrupt = () => settlement.saveCheckpoint()
  plan.interrupt?.addEventListener('abort', onInterrupt)

  const reportDamage = (problem: string): void => {
    counters.readErrors++
    counters.damaged.push(problem)
    plan.report(problem)
  }

  /** Reads one file through the mapper into the hold. */
  const readFile = async (file: ArchiveFile, start: ResumePoint, progress: FileProgress): Promise<FileEnd> => {
    const context = { hold, settlement, counters, name: file.name, file: progress, report: plan.report }
    for await (const batch of mapFileLines(plan.open(file), { start, maxLineBytes: limits.maxLineBytes, onBytes: plan.onBytes, mapper })) {
      if (batch.readError !== undefined) {
        // The checkpoint stays at the first line not read, so a later run over a repaired or completed file picks it up.
        reportDamage(`${file.name}: ${batch.readError}; the rest of this file is left for a later run`)
        return 'read-error'
      }
      if (await takeMappedLines(batch.mapped, context)) return 'stopped'
      progress.readUpTo(batch.lastLine + 1)
      const backpressure = sink.ready()
      if (backpressure !== undefined) await backpressure
    }
    return 'end'
  }

  try {
    for await (const file of plan.files) {
      if (settlement.stopped !== undefined) break
      const start = checkpoint?.startOf(file.absolute) ?? FROM_THE_START
      if (start === 'done') {
        counters.filesSkipped++
        continue
      }
      counters.filesRead++
      counters.linesSkipped += linesSettledBefore(start)
      // Checked whole first: damage decodes to garbage until the CRC at the end says so. The checkpoint keeps the file where it was.
      const damage = file.absolute === '-' ? undefined : await findGzipDamage(plan.open(file))
      if (damage !== undefined) {
        reportDamage(`${file.name}: damaged gzip (${damage}): not read, nothing of it sent; repair it or download it again, then run again`)
        continue
      }
      const progress = new FileProgress(start)
      settlement.follow(file.absolute, progress)
      let end: FileEnd
      try {
        end = await readFile(file, start, progress)
      } catch (error) {
        // A map thread failed (or a bug of ours): what was already sent settles (or is dead-lettered) first, and the checkpoint says so.
        settlement.stop('the run failed')
        await sink.close()
        settlement.saveCheckpoint()
        throw error
      }
      if (end === 'end') progress.finishReading()
    }
    if (settlement.stopped === undefined) hold.flush()
    await sink.close()
    settlement.saveCheckpoint()
    settlement.throwWriteError()
  } finally {
    clearInterval(checkpointTimer)
    hold.stopHoldTimer()
    plan.interrupt?.removeEventListener('abort', onInterrupt)
    plan.deadLetter.close()
    await mapper.close()
  }
  return settlement.stopped === undefined ? {} : { stopped: settlement.stopped }
}
