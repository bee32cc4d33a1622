import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { z } from 'zod'
import { AdapterError } from '../errors'
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

const CheckpointFile = z.strictObject({
  version: z.literal(1),
  scope: CheckpointScope,
  /** Resolved path → `"done"`, or the first line not yet settled. */
  files: z.record(z.string(), z.union([z.literal('done'), z.number().int().min(1)])),
  updatedAt: z.string()
})
type CheckpointFile = z.infer<typeof CheckpointFile>

/** Where one input stands: read from this line, or skip it. */
export type FileStart = number | 'done'

/** What a replay needs of its checkpoint: a worker thread has one that relays to the main thread, the only writer. */
export type CheckpointStore = Pick<Checkpoint, 'startOf' | 'save'>

/**
 * A replay's progress on disk. Written whole to a temporary file, flushed, then
 * renamed over the old one, so a run killed at any instant (SIGKILL, power loss)
 * leaves either the previous checkpoint or the new one, never a torn file.
 */
export class Checkpoint {
  private files: Record<string, FileStart>
  private lastWritten = ''

  private constructor(
    readonly path: string,
    private readonly scope: CheckpointScope,
    files: Record<string, FileStart>,
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

  /** Where a file starts: 1 for a new one. */
  startOf(absolute: string): FileStart {
    return this.files[absolute] ?? 1
  }

  /** Records where files stand and writes the checkpoint when anything changed. */
  save(positions: Iterable<[string, FileStart]>): void {
    this.record(positions)
    this.flush()
  }

  /** Records where files stand, in memory only (a run with worker threads flushes on its own timer). */
  record(positions: Iterable<[string, FileStart]>): void {
    for (const [absolute, start] of positions) {
      if (start === 'done' || start > 1) this.files[absolute] = start
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
