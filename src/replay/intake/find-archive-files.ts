import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs'
import path from 'node:path'
import { AdapterError } from '../../errors'
import { dayOutsideRange, shardOf, type ReplaySelection } from './replay-selection'

/** One input of a replay: a file, or stdin. */
export type ArchiveFile = {
  /** As shown in messages: the path as the user gave it, joined with what the walk found. */
  name: string
  /** Resolved path (the checkpoint's key), or `-` for stdin. */
  absolute: string
  /** Bytes on disk (0 for stdin): the progress bar's total. */
  size: number
}

export type FoundFiles = {
  files: ArchiveFile[]
  /** Files --source left out because they are not under `segment-logs/<source-id>/`. */
  outsideLayout: number
  /** Entries the walk could not follow (broken or looping links), as messages. */
  skipped: string[]
  /** Every `segment-logs/<source-id>/` the paths hold, selected or not, sorted: what a --source that matches none is told. */
  sourcesFound: string[]
}

/** Names a folder walk takes; a named file is taken whatever its name. */
const ARCHIVE_FILE = /\.(gz|json|jsonl|ndjson)$/i
const SEGMENT_LOGS = 'segment-logs'
const DAY_FOLDER = /^\d{10,}$/

/**
 * Lists the files a replay reads, in a stable order (each PATH in turn, names sorted
 * within a folder, so `<day-ms>` folders come chronologically), with the day
 * folders, sources and shard the selection excludes left out, and every file once.
 * `exclude` holds resolved paths a walk must not take (the checkpoint, the dead-letter file).
 */
export function findArchiveFiles(paths: readonly string[], selection: ReplaySelection, exclude: ReadonlySet<string>): FoundFiles {
  const files: ArchiveFile[] = []
  // Real paths: a file reached twice through links is read once, and a link loop is walked once.
  const seen = new Set<string>()
  const walked = new Set<string>()
  const skipped: string[] = []
  let outsideLayout = 0
  const sources = new Set<string>()

  const take = (name: string, absolute: string, fallbackKey: string, size: number): void => {
    const real = absolute === '-' ? absolute : realpathSync(absolute)
    if (seen.has(real) || exclude.has(absolute)) return
    const layout = layoutOf(absolute, true)
    if (layout?.source !== undefined) sources.add(layout.source)
    if (selection.sources !== undefined && layout?.source === undefined) {
      outsideLayout++
      return
    }
    if (layout !== undefined && !layoutSelected(layout, selection)) return
    if (selection.shard !== undefined && shardOf(layout?.key ?? fallbackKey, selection.shard.count) !== selection.shard.index) return
    seen.add(real)
    files.push({ name, absolute, size })
  }

  const walk = (dir: string, root: string): void => {
    const real = realpathSync(dir)
    if (walked.has(real)) return
    walked.add(real)
    const layout = layoutOf(path.resolve(dir), false)
    if (layout?.source !== undefined) sources.add(layout.source)
    if (layout !== undefined && !layoutSelected(layout, selection)) return
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      // Hidden names are editors' and uploaders' leftovers (.DS_Store, .partial files), never Segment's.
      if (entry.name.startsWith('.')) continue
      const child = path.join(dir, entry.name)
      let stats: { isDirectory(): boolean; isFile(): boolean } = entry
      if (entry.isSymbolicLink()) {
        try {
          stats = statSync(child)
        } catch (error) {
          skipped.push(`${child}: a link that cannot be followed (${(error as NodeJS.ErrnoException).code}): skipped`)
          continue
        }
      }
      if (stats.isDirectory()) walk(child, root)
      else if (stats.isFile() && ARCHIVE_FILE.test(entry.name)) {
        take(child, path.resolve(child), path.relative(root, child).split(path.sep).join('/'), statSync(child).size)
      }
    }
  }

  for (const given of paths) {
    if (given === '-') {
      if (!seen.has('-')) files.push({ name: 'stdin', absolute: '-', size: 0 })
      seen.add('-')
      continue
    }
    if (!existsSync(given)) throw new AdapterError('USAGE', `no such file or folder: ${given}`)
    const stats = statSync(given)
    if (stats.isDirectory()) walk(given, given)
    else take(given, path.resolve(given), path.basename(given), stats.size)
  }
  return { files, outsideLayout, skipped, sourcesFound: [...sources].sort() }
}

type Layout = { source?: string; dayMs?: number; key: string }

/** Where a path sits in Segment's `[prefix/]segment-logs/<source-id>/<received-day-ms>/` layout, if it does. */
function layoutOf(absolute: string, isFile: boolean): Layout | undefined {
  const parts = absolute.split(path.sep)
  const folders = isFile ? parts.slice(0, -1) : parts
  const at = folders.lastIndexOf(SEGMENT_LOGS)
  if (at < 0) return undefined
  const layout: Layout = { key: parts.slice(at).join('/') }
  if (folders.length > at + 1) layout.source = folders[at + 1]
  if (folders.length > at + 2 && DAY_FOLDER.test(folders[at + 2])) layout.dayMs = Number(folders[at + 2])
  return layout
}

function layoutSelected(layout: Layout, selection: ReplaySelection): boolean {
  if (selection.sources !== undefined && layout.source !== undefined && !selection.sources.has(layout.source)) return false
  return layout.dayMs === undefined || !dayOutsideRange(layout.dayMs, selection)
}
