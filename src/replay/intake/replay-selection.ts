import { AdapterError } from '../../errors'
import { firstTimeMs, readIsoTime } from '../../segment/iso-time'

/** Which part of an archive a replay covers: a time range, sources, and one shard of the files. */
export type ReplaySelection = {
  /** Inclusive, epoch ms. */
  fromMs?: number
  /** Exclusive, epoch ms. */
  toMs?: number
  sources?: ReadonlySet<string>
  shard?: { index: number; count: number }
}

const DAY_MS = 24 * 60 * 60 * 1000
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/**
 * `--from`/`--to` as a half-open range. A bare date means the whole UTC day, so
 * `--from 2026-11-01 --to 2026-11-02` covers two days; a date-time is exact (`--to`
 * stops just before it).
 */
export function parseDateRange(from: string | undefined, to: string | undefined): { fromMs?: number; toMs?: number } {
  const fromMs = from === undefined ? undefined : parseIsoDate('--from', from)
  const toMs = to === undefined ? undefined : parseIsoDate('--to', to) + (DATE_ONLY.test(to) ? DAY_MS : 0)
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new AdapterError('USAGE', `--to (${to}) must come after --from (${from})`)
  }
  return { fromMs, toMs }
}

function parseIsoDate(flag: string, value: string): number {
  // The reader events are read with: 2026-02-30 is refused, not rolled over into March.
  const ms = DATE_ONLY.test(value) || DATE_TIME.test(value) ? readIsoTime(value) : NaN
  if (Number.isNaN(ms)) {
    throw new AdapterError('USAGE', `${flag} must be an ISO date (2026-11-01) or date-time with a zone (2026-11-01T12:00:00Z), got "${value}"`)
  }
  return ms
}

/** `--shard K/N`: this machine takes shard K (1-based) of N. */
export function parseShard(value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim())
  const index = match === null ? NaN : Number(match[1])
  const count = match === null ? NaN : Number(match[2])
  if (!(count >= 1 && index >= 1 && index <= count)) {
    throw new AdapterError('USAGE', `--shard must be K/N with 1 <= K <= N (e.g. 2/4), got "${value}"`)
  }
  return { index, count }
}

/** True when a whole received-day folder (UTC midnight, ms) can hold nothing in the range. */
export function dayOutsideRange(dayMs: number, selection: ReplaySelection): boolean {
  return (selection.fromMs !== undefined && dayMs + DAY_MS <= selection.fromMs) || (selection.toMs !== undefined && dayMs >= selection.toMs)
}

/**
 * True when the event's time (WIRE.md §5: `timestamp`, else `originalTimestamp`, else
 * `receivedAt`, read as `sent_at` reads them: segment/iso-time.ts) lies in the range; an
 * event without a readable time (or not an object) is outside any range.
 */
export function eventInRange(event: unknown, selection: ReplaySelection): boolean {
  if (typeof event !== 'object' || event === null) return false
  const { timestamp, originalTimestamp, receivedAt } = event as Record<string, unknown>
  const ms = firstTimeMs([timestamp, originalTimestamp, receivedAt])
  if (Number.isNaN(ms)) return false
  return (selection.fromMs === undefined || ms >= selection.fromMs) && (selection.toMs === undefined || ms < selection.toMs)
}

/**
 * The shard a file belongs to, from a hash of its archive key (its path from
 * `segment-logs/` on, else from the folder it was found under): the same on every
 * machine whatever the mount point, and unchanged when other files come and go.
 */
export function shardOf(archiveKey: string, count: number): number {
  // FNV-1a, 32 bits: stable across Node versions and machines, unlike anything seeded.
  let hash = 0x811c9dc5
  for (let i = 0; i < archiveKey.length; i++) {
    hash ^= archiveKey.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return ((hash >>> 0) % count) + 1
}

/** Whether the range filters events at all (then every event's time is read). */
export function hasRange(selection: ReplaySelection): boolean {
  return selection.fromMs !== undefined || selection.toMs !== undefined
}
