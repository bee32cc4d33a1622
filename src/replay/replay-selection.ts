import { AdapterError } from '../errors'

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
  const ms = DATE_ONLY.test(value) ? Date.parse(`${value}T00:00:00Z`) : DATE_TIME.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(ms) || !isCalendarDate(value.slice(0, 10))) {
    throw new AdapterError('USAGE', `${flag} must be an ISO date (2026-11-01) or date-time with a zone (2026-11-01T12:00:00Z), got "${value}"`)
  }
  return ms
}

/** Date.parse rolls 2026-02-30 over into March; a range must not silently move. */
function isCalendarDate(ymd: string): boolean {
  const [year, month, day] = ymd.split('-').map(Number)
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
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
 * `receivedAt`) lies in the range; an event without a readable time (or not an object) is outside any range.
 */
export function eventInRange(event: unknown, selection: ReplaySelection): boolean {
  if (typeof event !== 'object' || event === null) return false
  const { timestamp, originalTimestamp, receivedAt } = event as Record<string, unknown>
  const time = timestamp ?? originalTimestamp ?? receivedAt
  const ms = typeof time === 'string' ? utcTime(time) : typeof time === 'number' ? time : NaN
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

/** A time string without a zone is read as UTC, as Segment means it, not in this machine's zone. */
function utcTime(text: string): number {
  const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
  return new Date(zoneless ? `${text.replace(' ', 'T')}Z` : text).getTime()
}
