import { EntryGrouper, keyOfEntry, toKoalaRequest, type EntryGroup } from '../koala/batcher'
import { renderRequest, type RenderedEntry } from '../koala/rendered-request'
import type { KoalaEntry, OutboundRequest } from '../koala/request-schema'
import type { DropReason } from '../drop-reasons'
import type { CompiledMapping } from '../mapping/compile-mapping'
import { holdsManyEvents, itemsOfDocument } from '../segment/read-events'
import { FROM_THE_START, linesSettledBefore, type CheckpointStore, type FileStart, type ResumePoint } from './settling/checkpoint'
import { unwrapDeadLetter, type DeadLetterReason, type DeadLetterWriter } from './settling/dead-letter'
import type { ArchiveFile } from './intake/find-archive-files'
import { FileProgress, type PendingLine } from './settling/file-progress'
import { MAX_CHARS_OUT, type MapThreads } from './intake/map-threads'
import { MAPPED_DROP, MAPPED_ERROR, MAPPED_OUTSIDE, type MappedLines } from './intake/mapped-lines'
import { frameArchiveLines, parseArchiveLines, type FramedLine, type ParsedBatch } from './intake/parse-archive-lines'
import { readArchiveLines } from './intake/read-archive-lines'
import { findGzipDamage } from './intake/check-gzip'
import type { ReplayCounters } from './reporting/replay-summary'
import { eventInRange, hasRange, type ReplaySelection } from './intake/replay-selection'
import type { ReplaySink, SinkOutcome } from './settling/replay-sink'
import type { ReplayEnd, ReplayLimits } from './replay-types'

export type ReplayPlan = {
  /** Read in turn; a worker's files come from the main thread's queue, one when the previous is read. */
  files: Iterable<ArchiveFile> | AsyncIterable<ArchiveFile>
  open(file: ArchiveFile): AsyncIterable<Buffer>
  mapping: CompiledMapping
  selection: ReplaySelection
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
  /**
   * Threads that parse and map the lines (started for the plan's mapping and sink); without
   * them this thread does it all. Either way every other step stays here, in archive order.
   */
  mapThreads?: MapThreads
}

/**
 * One Segment event with entries still to settle, and what to dead-letter if they fail
 * (nothing when the sink never refuses: a dry run keeps no copy of events it holds;
 * a string is the event's JSON already, from a map thread).
 */
type EventRecord = { pending: PendingLine; unsettled: number; failed: boolean; event: unknown }

/** An entry a map thread rendered, with the event it came from; `sent` once its request is closed. */
type HeldText = RenderedEntry & { record: EventRecord; sent: boolean }
/** What the batcher holds: map()'s entries (mapped here), or rendered ones (mapped by threads); one run holds one kind. */
type HeldEntry = KoalaEntry | HeldText

const keyOfHeld = (entry: HeldEntry): string => ('text' in entry ? entry.key : keyOfEntry(entry))

/**
 * Replays the plan's files into its sink: reads each file as a stream, maps every
 * event, batches entries per person across events and files, and keeps at most
 * `bufferEntries` entries held (reading pauses at the bound). Every event ends
 * delivered, dropped (counted by reason) or dead-lettered; the checkpoint records, per
 * file, the first line not yet read and the lines below it not yet settled, so a run
 * killed at any point resumes without a gap and sends again only what was unsettled.
 */
export async function runReplay(plan: ReplayPlan): Promise<ReplayEnd> {
  const { limits, counters, sink, checkpoint } = plan
  if (plan.mapThreads !== undefined && sink.canRefuse && !plan.mapThreads.keepsEvents) throw new Error('internal: map threads that keep no events cannot feed a sink that dead-letters them')
  // Every entry comes from map(), which checks each one: the requests need not be checked whole again.
  const batcher = new EntryGrouper<HeldEntry>(keyOfHeld)
  /** Open entries mapped on this thread (in the batcher), and the events they came from. */
  const origins = new Map<object, EventRecord>()
  /** Files not yet reported done to the checkpoint (with one), by absolute path. */
  const progress = new Map<string, FileProgress>()
  const filtering = hasRange(plan.selection)
  let held = 0
  let stopped: string | undefined
  /** A dead letter or the checkpoint could not be written (a full disk): the run stops, and ends with this error. */
  let writeError: unknown
  let wake: (() => void) | undefined
  let lastAdded: HeldEntry | undefined
  let holdMarker: HeldEntry | undefined
  const isOpen = (entry: HeldEntry): boolean => ('text' in entry ? !entry.sent : origins.has(entry))

  const settled = (): Promise<void> => new Promise((resolve) => (wake = resolve))
  /**
   * Where the files in progress stand. A file wholly settled is reported 'done' once and
   * forgotten (the checkpoint keeps it), so memory does not grow with the number of files.
   */
  const positions = function* (): Generator<[string, FileStart]> {
    for (const [absolute, file] of progress) {
      if (file.done) {
        progress.delete(absolute)
        yield [absolute, 'done']
      } else yield [absolute, file.position]
    }
  }
  const saveCheckpoint = (): void => {
    try {
      checkpoint?.save(positions())
    } catch (error) {
      failWriting(error)
    }
  }
  const failWriting = (error: unknown): void => {
    writeError ??= error
    stopped ??= 'a file could not be written'
  }

  /** Writes the dead letters of a failed request; false when they could not be written, and the events must stay unsettled. */
  const deadLetter = (events: readonly EventRecord[], reason: DeadLetterReason): boolean => {
    if (writeError !== undefined) return false
    // An event whose entries span several failed requests is written once.
    const lines: string[] = []
    for (const record of events) {
      if (record.failed) continue
      record.failed = true
      lines.push(typeof record.event === 'string' ? record.event : JSON.stringify(record.event))
    }
    try {
      plan.deadLetter.write(lines, reason)
      return true
    } catch (error) {
      failWriting(error)
      return false
    }
  }

  const settle = (events: readonly EventRecord[], outcome: SinkOutcome): void => {
    held -= events.length
    counters.request(outcome.status)
    if (!outcome.ok && outcome.stop === true) {
      // Left unsettled on purpose: the checkpoint keeps these lines for the run that follows the fix.
      // Status and code only: Koala's text may echo the key or an email, and this line is printed.
      const code = outcome.reason.code === undefined ? '' : `, code ${outcome.reason.code}`
      stopped ??= `Koala refused the key (HTTP ${outcome.status}${code}); fix it and run the same command again`
    } else if (outcome.ok || deadLetter(events, outcome.reason)) {
      for (const record of events) {
        if (--record.unsettled === 0) {
          if (record.failed) counters.deadLettered++
          else counters.eventsSent++
        }
        record.pending.progress.settle(record.pending)
      }
    }
    const resolve = wake
    wake = undefined
    resolve?.()
  }

  /** Hands a closed request to the sink; returns how many entries it holds. */
  const dispatch = (group: EntryGroup<HeldEntry>): number => {
    const events: EventRecord[] = []
    for (const kind in group.lists) {
      for (const entry of group.lists[kind]) {
        if ('text' in entry) {
          entry.sent = true
          events.push(entry.record)
        } else {
          events.push(origins.get(entry)!)
          origins.delete(entry)
        }
      }
    }
    const request: OutboundRequest = 'text' in group.first ? renderRequest(group as EntryGroup<HeldText>) : toKoalaRequest(group as EntryGroup<KoalaEntry>)
    held += events.length
    sink.submit(request, (outcome) => settle(events, outcome))
    return events.length
  }

  /**
   * Reading pauses here until there is room. While the sink has requests waiting it
   * just waits: open requests keep filling, which is when batching pays. When the sink
   * runs dry, the oldest open requests go out, about a quarter of the bound at a time.
   */
  const makeRoom = async (): Promise<void> => {
    while (batcher.size + held >= limits.bufferEntries && stopped === undefined) {
      if (sink.backlog() === 0) {
        for (let closed = 0; closed < limits.bufferEntries / 4; ) {
          const request = batcher.flushOldest()
          if (request === undefined) break
          closed += dispatch(request)
        }
      }
      if (held > 0) await settled()
    }
  }

  /**
   * Maps one event of `line` and adds its entries to the batcher; returns the line's
   * pending record, made on the line's first entry (`pending` carries it across a document's events).
   */
  const handleEvent = (event: unknown, line: number, file: FileProgress, pending: PendingLine | undefined): PendingLine | undefined => {
    counters.eventsRead++
    if (filtering && !eventInRange(event, plan.selection)) {
      counters.eventsOutsideRange++
      return pending
    }
    const result = plan.mapping.map(event)
    if (result.outcome === 'drop') {
      counters.drop(result.reason)
      return pending
    }
    const record = recordEvent(line, file, pending, result.entries.length, sink.canRefuse ? event : undefined)
    for (const entry of result.entries) {
      origins.set(entry, record)
      hold(entry)
    }
    return record.pending
  }

  /** The record of an event of `line` with `entries` entries about to be held; the line's pending record is made on its first. */
  const recordEvent = (line: number, file: FileProgress, pending: PendingLine | undefined, entries: number, event: unknown): EventRecord => {
    // One extra count guards the line while its events are added: a request closed meanwhile must not settle it early.
    pending ??= file.track(line, 1)
    pending.unsettled += entries
    return { pending, unsettled: entries, failed: false, event }
  }

  /** Puts one entry in the batcher, and sends the request it closed. */
  const hold = (entry: HeldEntry): void => {
    lastAdded = entry
    const closed = batcher.add(entry)
    if (closed !== undefined) dispatch(closed)
  }

  /** A document (a JSON array, a /v1/batch envelope) holds many events on one line: the buffer's bound holds inside it too. */
  const handleDocument = async (document: unknown, line: number, file: FileProgress): Promise<void> => {
    let pending: PendingLine | undefined
    for (const item of itemsOfDocument(document)) {
      pending = handleEvent(item.value, line, file, pending)
      if (batcher.size + held >= limits.bufferEntries) await makeRoom()
    }
    if (pending !== undefined) file.settle(pending)
  }

  /**
   * Reads one file: 'end' when it was read to its end; 'stopped' when the run stopped
   * first; 'read-error' when the file could not be read on (corrupt or truncated gzip).
   * Only 'end' lets the file become done: after a read error its checkpoint stays at the
   * first line not read, so a later run over a repaired or completed file picks it up.
   */
  const readFile = async (file: ArchiveFile, start: ResumePoint, fileProgress: FileProgress): Promise<'end' | 'stopped' | 'read-error'> => {
    let lastLine = (start.pending[0] ?? start.next) - 1
    const lines = readArchiveLines(plan.open(file), { maxLineBytes: limits.maxLineBytes, onBytes: plan.onBytes })
    const batches = parseArchiveLines(lines, { skipBelow: start.next, reread: start.pending, maxDocumentBytes: limits.maxLineBytes })[Symbol.asyncIterator]()
    for (;;) {
      let step: IteratorResult<ParsedBatch>
      // Only reading is guarded here: an error of ours while handling events is a bug, and must not pass for a bad file.
      try {
        step = await batches.next()
      } catch (error) {
        return readError(file, lastLine, error)
      }
      if (step.done === true) return 'end'
      const batch = step.value
      for (const item of batch.items) {
        if (item.error !== undefined) {
          counters.malformedLines++
          plan.report(`${file.name}:${item.line}: ${item.error}`)
        } else {
          const value = unwrapDeadLetter(item.value)
          if (holdsManyEvents(value)) await handleDocument(value, item.line, fileProgress)
          else {
            // The common case, one event, handled without an await.
            const pending = handleEvent(value, item.line, fileProgress, undefined)
            if (pending !== undefined) fileProgress.settle(pending)
          }
        }
        fileProgress.readUpTo(item.line + 1)
        if (batcher.size + held >= limits.bufferEntries) await makeRoom()
        if (stopped !== undefined) return 'stopped'
      }
      lastLine = batch.lastLine
      fileProgress.readUpTo(lastLine + 1)
      const backpressure = sink.ready()
      if (backpressure !== undefined) await backpressure
    }
  }

  const readError = (file: ArchiveFile, lastLine: number, error: unknown): 'read-error' => {
    const { kind, detail } = describeReadError(error as NodeJS.ErrnoException)
    reportDamage(`${file.name}: ${kind} at ~line ${lastLine + 1}: ${detail}; the rest of this file is left for a later run`)
    return 'read-error'
  }
  const reportDamage = (problem: string): void => {
    counters.readErrors++
    counters.damaged.push(problem)
    plan.report(problem)
  }

  /**
   * Takes one batch's mapped lines (mapped-lines.ts), as handleEvent takes map()'s results;
   * returns true when the run stopped meanwhile.
   */
  const handleMapped = async (mapped: MappedLines, name: string, file: FileProgress): Promise<boolean> => {
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
        plan.report(`${name}:${at}: ${mapped[i++] as string}`)
        continue
      }
      counters.eventsRead++
      if (code === MAPPED_OUTSIDE) counters.eventsOutsideRange++
      else if (code === MAPPED_DROP) counters.drop(mapped[i++] as DropReason)
      else {
        const record = recordEvent(at, file, pending, code, mapped[i++] ?? undefined)
        pending = record.pending
        for (let n = 0; n < code; n++, i += 4) {
          const rendered: HeldText = { key: mapped[i] as string, kind: mapped[i + 1] as string, text: mapped[i + 2] as string, record, sent: false }
          if (mapped[i + 3] !== null) rendered.bodyFields = mapped[i + 3] as string
          hold(rendered)
        }
      }
      if (batcher.size + held >= limits.bufferEntries) await makeRoom()
      if (stopped !== undefined) return true
    }
    if (pending !== undefined) file.settle(pending)
    return false
  }

  /**
   * readFile with the parsing and mapping done by map threads: this thread reads and frames
   * the lines, keeps up to the threads' capacity of batches out, and takes their answers in
   * the order it sent them. Reading and taking run side by side, so a slow input (a pipe that
   * trickles) never holds back what was already read.
   */
  const readFileInThreads =
    (threads: MapThreads) =>
    async (file: ArchiveFile, start: ResumePoint, fileProgress: FileProgress): Promise<'end' | 'stopped' | 'read-error'> => {
      const lines = readArchiveLines(plan.open(file), { maxLineBytes: limits.maxLineBytes, onBytes: plan.onBytes })
      const batches = frameArchiveLines(lines, { skipBelow: start.next, reread: start.pending, maxDocumentBytes: limits.maxLineBytes })[Symbol.asyncIterator]()
      const out: Array<{ mapped: Promise<MappedLines>; lastLine: number; chars: number }> = []
      let charsOut = 0
      let readDone = false
      let failure: { error: unknown } | undefined
      let quit = false
      let room: (() => void) | undefined
      let item: (() => void) | undefined
      const wake = (resolve: (() => void) | undefined): undefined => void resolve?.()

      const produce = async (): Promise<void> => {
        try {
          for (;;) {
            while ((out.length >= threads.capacity || charsOut >= MAX_CHARS_OUT) && !quit) await new Promise<void>((resolve) => (room = resolve))
            if (quit) return
            const step = await batches.next()
            if (step.done === true || quit) return
            const mapped = threads.map(step.value.items)
            // Taken in turn below; until then a failed thread must not count as an unhandled rejection.
            mapped.catch(() => {})
            const chars = charsOf(step.value.items)
            charsOut += chars
            out.push({ mapped, lastLine: step.value.lastLine, chars })
            item = wake(item)
          }
        } catch (error) {
          failure = { error }
        } finally {
          readDone = true
          item = wake(item)
          if (quit) void batches.return(undefined).catch(() => {})
        }
      }
      const stopReading = (): void => {
        quit = true
        room = wake(room)
      }

      void produce()
      let lastLine = (start.pending[0] ?? start.next) - 1
      try {
        for (;;) {
          const next = out.shift()
          if (next === undefined) {
            if (readDone) break
            await new Promise<void>((resolve) => (item = resolve))
            continue
          }
          charsOut -= next.chars
          room = wake(room)
          if (await handleMapped(await next.mapped, file.name, fileProgress)) return 'stopped'
          lastLine = next.lastLine
          fileProgress.readUpTo(lastLine + 1)
          const backpressure = sink.ready()
          if (backpressure !== undefined) await backpressure
        }
      } finally {
        // Stopped, or an error: the reading ends too, and closes the file.
        if (!readDone) stopReading()
      }
      return failure === undefined ? 'end' : readError(file, lastLine, failure.error)
    }

  const checkpointTimer = checkpoint === undefined ? undefined : setInterval(saveCheckpoint, limits.checkpointIntervalMs)
  // Every half hold-time, close what was already open at the previous tick, so nothing waits much longer than
  // maxHoldMs, unless Koala is the bottleneck: then requests wait anyway, and are better full.
  const holdTimer = setInterval(() => {
    if (sink.backlog() === 0) {
      while (holdMarker !== undefined && isOpen(holdMarker)) {
        const request = batcher.flushOldest()
        if (request === undefined) break
        dispatch(request)
      }
    }
    holdMarker = lastAdded
  }, Math.max(1, limits.maxHoldMs / 2))
  checkpointTimer?.unref()
  holdTimer.unref()
  const onInterrupt = () => saveCheckpoint()
  plan.interrupt?.addEventListener('abort', onInterrupt)

  try {
    for await (const file of plan.files) {
      if (stopped !== undefined) break
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
      const fileProgress = new FileProgress(start)
      // Kept only for the checkpoint: without one, a file's progress lives as long as its unsettled lines.
      if (checkpoint !== undefined) progress.set(file.absolute, fileProgress)
      const read = plan.mapThreads === undefined ? readFile : readFileInThreads(plan.mapThreads)
      let outcome: Awaited<ReturnType<typeof readFile>>
      try {
        outcome = await read(file, start, fileProgress)
      } catch (error) {
        // A map thread failed (or a bug of ours): what was already sent settles (or is dead-lettered) first, and the checkpoint says so.
        stopped ??= 'the run failed'
        await sink.close()
        saveCheckpoint()
        throw error
      }
      if (outcome === 'end') fileProgress.finishReading()
    }
    if (stopped === undefined) for (const request of batcher.flush()) dispatch(request)
    await sink.close()
    saveCheckpoint()
    if (writeError !== undefined) throw writeError
  } finally {
    clearInterval(checkpointTimer)
    clearInterval(holdTimer)
    plan.interrupt?.removeEventListener('abort', onInterrupt)
    plan.deadLetter.close()
  }
  return stopped === undefined ? {} : { stopped }
}

/** Characters of text in a batch of framed lines (what it costs to hold until its answer is taken). */
function charsOf(items: readonly FramedLine[]): number {
  let chars = 0
  for (const item of items) chars += 'text' in item ? item.text.length : 'document' in item ? item.document.reduce((sum, text) => sum + text.length, 0) : 0
  return chars
}

function describeReadError(error: NodeJS.ErrnoException): { kind: string; detail: string } {
  if (typeof error.code === 'string' && error.code.startsWith('Z_')) return { kind: 'gzip error', detail: error.message }
  if (typeof error.code === 'string') return { kind: 'read error', detail: error.code }
  return { kind: 'read error', detail: error.message }
}
