import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { z } from 'zod'
import { AdapterError } from '../../errors'
import { writeFailure } from './write-failure'

/** What a resumed run must repeat exactly: with other inputs or another selection, "line N of file F is done" means nothing. */
export const CheckpointScope = z.strictObject({
  workspace: z.string(),
  paths: z.array(z.string()),
  from: z.string().optional(),
  to: z.string().optional(),
  sources: z.array(z.string()).optional(),
  shard: z.string().optional()
})
export type CheckpointScope = z.infer<typeof CheckpointScope>

const Line = z.number().int().min(1)
/** Where a file stands: `next` is the first line not yet read; `pending` the lines below it still unsettled, in order. */
const SavedPosition = z.strictObject({ next: Line, pending: z.array(Line) })

const CheckpointFile = z.strictObject({
  version: z.literal(1),
  scope: CheckpointScope,
  /**
   * Resolved path → `"done"`, a position, or (when no line below it is unsettled, and as
   * checkpoints before positions were written) the first line not yet settled.
   */
  files: z.record(z.string(), z.union([z.literal('done'), Line, SavedPosition])),
  updatedAt: z.string()
})
type CheckpointFile = z.infer<typeof CheckpointFile>

/**
 * Where a resumed run reads one input: every line from `next` on, and below it only the
 * `pending` lines (ascending); the others below `next` were settled by an earlier run.
 */
export type ResumePoint = { readonly next: number; readonly pending: readonly number[] }

/** Where one input stands: read from this point, or skip it. */
export type FileStart = ResumePoint | 'done'

/** A file no run has read yet. */
export const FROM_THE_START: ResumePoint = Object.freeze({ next: 1, pending: Object.freeze([]) as readonly number[] })

/** Lines an earlier run settled, which a run resuming at `start` skips. */
export function linesSettledBefore(start: ResumePoint): number {
  return start.next - 1 - start.pending.length
}

/** What a replay needs of its checkpoint (tests give their own). */
export type CheckpointStore = Pick<Checkpoint, 'startOf' | 'save'>

/**
 * A replay's progress on disk. Written whole to a temporary file, flushed, then
 * renamed over the old one, so a run killed at any instant (SIGKILL, power loss)
 * leaves either the previous checkpoint or the new one, never a torn file.
 */
export class Checkpoint {
  private files: Record<string, CheckpointFile['files'][string]>
  private lastWritten = ''

  private constructor(
    readonly path: string,
    private readonly scope: CheckpointScope,
    files: CheckpointFile['files'],
    /** True when an earlier run's progress was read: this run continues it. */
    readonly resumed: boolean
  ) {
    this.files = files
  }

  /** Reads `path` if it exists; refuses (USAGE) a checkpoint of another scope or a file that is not one. */
  static open(path: string, scope: CheckpointScope): Checkpoint {
    if (!existsSync(path)) return new Checkpoint(path, scope, {}, false)
    let saved: CheckpointFile
    try {
      saved = CheckpointFile.parse(JSON.parse(readFileSync(path, 'utf8')))
    } catch (error) {
      throw new AdapterError('USAGE', `--checkpoint ${path} exists but is not a replay checkpoint (${(error as Error).message.slice(0, 200)}); move it away to start over`)
    }
    const differences = describeDifferences(saved.scope, scope)
    if (differences.length > 0) {
      throw new AdapterError(
        'USAGE',
        `--checkpoint ${path} belongs to another replay (${differences.join('; ')}); resume with the same options, or use another checkpoint file`
      )
    }
    return new Checkpoint(path, scope, saved.files, true)
  }

  /** Where a file starts: from the start for a new one. */
  startOf(absolute: string): FileStart {
    const saved = this.files[absolute]
    if (saved === undefined) return FROM_THE_START
    return typeof saved === 'number' ? { next: saved, pending: [] } : saved
  }

  /** Records where files stand and writes the checkpoint when anything changed. */
  save(positions: Iterable<[string, FileStart]>): void {
    this.record(positions)
    this.flush()
  }

  /** Records where files stand, in memory only (save() records and writes). */
  record(positions: Iterable<[string, FileStart]>): void {
    for (const [absolute, start] of positions) {
      if (start === 'done') this.files[absolute] = start
      // The short form when nothing below `next` is pending: what checkpoints before positions held.
      else if (start.pending.length === 0) {
        if (start.next > 1) this.files[absolute] = start.next
      } else this.files[absolute] = { next: start.next, pending: [...start.pending] }
    }
  }

  /**
   * Writes what was recorded, when anything changed since the last write. When it cannot (a
   * full disk) it throws WRITE_FAILED, and the file on disk still holds the last progress written.
   */
  flush(): void {
    const body = JSON.stringify({ version: 1, scope: this.scope, files: this.files } satisfies Omit<CheckpointFile, 'updatedAt'>)
    if (body === this.lastWritten) return
    const text = `${body.slice(0, -1)},"updatedAt":${JSON.stringify(new Date().toISOString())}}\n`
    const temporary = `${this.path}.tmp`
    try {
      const fd = openSync(temporary, 'w')
      try {
        const bytes = Buffer.from(text)
        for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(temporary, this.path)
    } catch (error) {
      try {
        rmSync(temporary, { force: true })
      } catch {
        // The error below is the one that matters; a stray .tmp is overwritten by the next write.
      }
      throw writeFailure('the checkpoint', this.path, error)
    }
    this.lastWritten = body
  }
}

function describeDifferences(saved: CheckpointScope, now: CheckpointScope): string[] {
  const differences: string[] = []
  for (const key of Object.keys(CheckpointScope.shape) as Array<keyof CheckpointScope>) {
    const before = JSON.stringify(saved[key] ?? null)
    const after = JSON.stringify(now[key] ?? null)
    if (before !== after) differences.push(`${key}: it has ${before}, this run ${after}`)
  }
  return differences
}
