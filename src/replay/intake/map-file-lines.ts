import { AdapterError } from '../../errors'
import type { ResumePoint } from '../settling/checkpoint'
import type { LineMapper } from './line-mapper'
import type { MappedLines } from './mapped-lines'
import { frameArchiveLines, type FramedLine } from './parse-archive-lines'
import { readArchiveLines } from './read-archive-lines'

/**
 * Characters of lines given to the mapper and not yet taken back: with long lines (up to
 * REPLAY_MAX_LINE_BYTES), a count of batches alone would let the run hold many of them.
 */
const MAX_CHARS_OUT = 8 * 1024 * 1024

/** One batch of a file's lines, mapped; or, last, why the file could not be read on. */
export type MappedBatch =
  | { mapped: MappedLines; readError?: undefined; lastLine: number }
  /** `readError` says what and where (`gzip error at ~line 12: …`), for the user. */
  | { readError: string; lastLine: number }

export type MapFileOptions = {
  /** Where an earlier run left the file: lines it settled are skipped, its pending ones read again. */
  start: ResumePoint
  maxLineBytes: number
  onBytes(bytes: number): void
  mapper: LineMapper
}

/**
 * Reads one file, frames its lines and has the mapper map them, yielding the mapped
 * batches in the file's order (`lastLine`: the last physical line a batch covers).
 * Reading runs ahead of the taking, up to the mapper's capacity and MAX_CHARS_OUT of
 * text, so a slow input (a pipe that trickles) never holds back what was already read.
 * A read error (corrupt or truncated gzip) ends the batches with one `readError`, after
 * every batch read before it; a mapper failure throws. Stopping early stops the reading,
 * which closes the file.
 */
export async function* mapFileLines(source: AsyncIterable<Buffer>, options: MapFileOptions): AsyncGenerator<MappedBatch> {
  const { start, maxLineBytes, mapper } = options
  const lines = readArchiveLines(source, { maxLineBytes, onBytes: options.onBytes })
  const batches = frameArchiveLines(lines, { skipBelow: start.next, reread: start.pending, maxDocumentBytes: maxLineBytes })[Symbol.asyncIterator]()
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
        while ((out.length >= mapper.capacity || charsOut >= MAX_CHARS_OUT) && !quit) await new Promise<void>((resolve) => (room = resolve))
        if (quit) return
        const step = await batches.next()
        if (step.done === true || quit) return
        const mapped = mapper.map(step.value.items)
        // Taken in turn below; until then a failed mapper must not count as an unhandled rejection.
        mapped.catch(() => {})
        const chars = charsOf(step.value.items)
        charsOut += chars
        out.push({ mapped, lastLine: step.value.lastLine, chars })
        item = wake(item)
      }
    } catch (error) {
      // Only reading and framing are guarded here: a mapper's failure comes with its batch, and must not pass for a bad file.
      failure = { error }
    } finally {
      readDone = true
      item = wake(item)
      if (quit) void batches.return(undefined).catch(() => {})
    }
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
      yield { mapped: await next.mapped, lastLine: next.lastLine }
      lastLine = next.lastLine
    }
  } finally {
    // Stopped, or an error: the reading ends too, and closes the file.
    if (!readDone) {
      quit = true
      room = wake(room)
    }
  }
  if (failure !== undefined) yield { readError: describeReadError(failure.error as NodeJS.ErrnoException, lastLine + 1), lastLine }
}

/** Characters of text in a batch of framed lines (what it costs to hold until its answer is taken). */
function charsOf(items: readonly FramedLine[]): number {
  let chars = 0
  for (const item of items) chars += 'text' in item ? item.text.length : 'document' in item ? item.document.reduce((sum, text) => sum + text.length, 0) : 0
  return chars
}

function describeReadError(error: NodeJS.ErrnoException, line: number): string {
  // Ours (a document over REPLAY_MAX_LINE_BYTES) says what is wrong in its message, not in its code.
  if (error instanceof AdapterError) return `${error.message}`
  if (typeof error.code === 'string' && error.code.startsWith('Z_')) return `gzip error at ~line ${line}: ${error.message}`
  if (typeof error.code === 'string') return `read error at ~line ${line}: ${error.code}`
  return `read error at ~line ${line}: ${error.message}`
}
