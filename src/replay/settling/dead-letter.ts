import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs'
import { writeFailure } from './write-failure'

/** Why Koala did not take a request: what each of its events' dead-letter lines records. */
export type DeadLetterReason = {
  endpoint: string
  /** Koala's HTTP status; absent when no answer came (a network error, the budget ran out). */
  status?: number
  /** Koala's error code, or the network error's. */
  code?: string
  error: string
}

/** What a replay needs of its dead-letter file (tests hand in one that fails). */
export type DeadLetterWriter = Pick<DeadLetterFile, 'write' | 'close'>

/**
 * The dead-letter file: NDJSON, one line per event Koala refused for good or that
 * ran out of retries, `{"deadLetter":{…reason, at},"event":{…the Segment event as read…}}`.
 * `replay` reads such lines as the event they hold, so the file is itself an input.
 */
export class DeadLetterFile {
  private fd: number | undefined
  /** The file's length after the last whole write: a failed write is cut back to it. */
  private size = 0
  private written = 0

  constructor(readonly path: string) {}

  /**
   * Appends one line per event (each the JSON text of a Segment event). Synchronous on
   * purpose: once this returns the lines are in the OS's hands, so marking the events
   * settled in the checkpoint afterwards cannot lose them, even to a SIGKILL. When the
   * write fails (a full disk) the file is cut back to its last whole line and WRITE_FAILED
   * is thrown: those events are not dead-lettered, and must stay unsettled.
   */
  write(events: readonly string[], reason: DeadLetterReason): void {
    if (events.length === 0) return
    const head = `{"deadLetter":${JSON.stringify({ ...reason, at: new Date().toISOString() })},"event":`
    const text = events.map((event) => `${head}${event}}\n`).join('')
    const bytes = Buffer.from(text)
    try {
      // Opened on the first dead letter only: a clean run leaves no empty file behind. Appended, so a resumed run keeps the earlier lines.
      if (this.fd === undefined) {
        this.fd = openSync(this.path, 'a')
        this.size = fstatSync(this.fd).size
      }
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done)
      // The checkpoint is fsynced; the dead letters it may skip past must be on disk first, even after a power loss.
      fsyncSync(this.fd)
    } catch (error) {
      this.cutBack()
      throw writeFailure('dead letters to', this.path, error)
    }
    this.size += bytes.length
    this.written += events.length
  }

  /** Drops a torn tail: a later run appends to this file, and a half line would join its first line. */
  private cutBack(): void {
    if (this.fd === undefined) return
    try {
      ftruncateSync(this.fd, this.size)
    } catch {
      // Nothing more can be done here; the error thrown says the file could not be written.
    }
  }

  /** Events written by this run. */
  get count(): number {
    return this.written
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

/** The Segment event a dead-letter line holds; any other value is returned as it is. */
export function unwrapDeadLetter(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const record = value as { deadLetter?: unknown; event?: unknown }
  return typeof record.deadLetter === 'object' && record.deadLetter !== null && 'event' in record ? record.event : value
}

/** Dead-letter lines (one per event) a file already holds, counted without reading it whole; 0 when it does not exist. */
export function countDeadLetters(path: string): number {
  if (!existsSync(path)) return 0
  const fd = openSync(path, 'r')
  try {
    const chunk = Buffer.allocUnsafe(1 << 20)
    let lines = 0
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
      const filled = chunk.subarray(0, read)
      for (let at = filled.indexOf(10); at >= 0; at = filled.indexOf(10, at + 1)) lines++
    }
    return lines
  } finally {
    closeSync(fd)
  }
}
