/*
 * The one reader of times in event data (sent_at, replay's --from/--to filter). Strict
 * ISO 8601 (the RFC 3339 profile Segment's libraries and the Spec write), computed from
 * validated parts, so the answer never depends on the process's time zone and an
 * impossible date is refused instead of rolled over (Date.parse("2026-11-31") is 1 Dec).
 *
 * Accepted: YYYY-MM-DD, optionally followed by `T` (or `t`, or a space) hh:mm, optional
 * :ss, optional fraction of any length (`.` or `,`; cut to milliseconds), and an optional
 * zone `Z`, `+hh:mm`, `+hhmm` or `+hh`. No zone means UTC, as Segment means it.
 * Numbers are refused: Segment sends strings, and an epoch number could be seconds or
 * milliseconds (Segment's own validator reads a 13-digit string either way), which is a guess.
 */

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?)?$/

// Exactly what Date#toISOString writes for years 0000-9999: it is returned as it is, which
// saves ~1 µs of parsing and formatting on nearly every event (Segment's libraries send it).
const CANONICAL_ISO = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/

const MINUTE_MS = 60_000
// Date.UTC reads years 0-99 as 1900-1999; 400 Gregorian years are exactly 146,097 days.
const FOUR_CENTURIES_MS = 146_097 * 24 * 60 * MINUTE_MS
// Koala's date-time is RFC 3339: a result must keep a four-digit year.
const FIRST_MS = -62_167_219_200_000 // 0000-01-01T00:00:00Z
const END_MS = 253_402_300_800_000 // 10000-01-01T00:00:00Z

/** True when the value is a string exactly as Date#toISOString writes it, for a day that exists. */
export function isCanonicalIso(value: unknown): value is string {
  if (typeof value !== 'string' || !CANONICAL_ISO.test(value)) return false
  // Days 01-28 exist in every month; only 29-31 need the calendar.
  const tens = value.charCodeAt(8) - 48
  if (tens < 2 || (tens === 2 && value.charCodeAt(9) < 57)) return true
  return Number(value.slice(8, 10)) <= daysInMonth(Number(value.slice(0, 4)), Number(value.slice(5, 7)))
}

/** Epoch milliseconds of a strict ISO 8601 date or date-time string (zone-less = UTC); NaN for anything else. */
export function readIsoTime(value: unknown): number {
  if (typeof value !== 'string') return NaN
  const match = ISO_TIME.exec(value)
  if (match === null) return NaN
  const [, y, mo, d, h, mi, s, fraction, sign, offsetHours, offsetMinutes] = match
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = h === undefined ? 0 : Number(h)
  const minute = mi === undefined ? 0 : Number(mi)
  const second = s === undefined ? 0 : Number(s)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN
  // No 24:00 and no leap second: Date cannot hold them without moving to the next minute or day.
  if (hour > 23 || minute > 59 || second > 59) return NaN
  let offset = 0
  if (sign !== undefined) {
    const zoneHours = Number(offsetHours)
    const zoneMinutes = offsetMinutes === undefined ? 0 : Number(offsetMinutes)
    if (zoneHours > 23 || zoneMinutes > 59) return NaN
    offset = (sign === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes) * MINUTE_MS
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'))
  const early = year < 100
  const local = Date.UTC(early ? year + 400 : year, month - 1, day, hour, minute, second, millis) - (early ? FOUR_CENTURIES_MS : 0)
  const ms = local - offset
  return ms >= FIRST_MS && ms < END_MS ? ms : NaN
}

/**
 * The time of the first candidate that reads as a date-time; a date-only candidate counts
 * only when no later one has a time. NaN when none reads.
 */
export function firstTimeMs(candidates: readonly unknown[]): number {
  let dateOnly = NaN
  for (const candidate of candidates) {
    const ms = readIsoTime(candidate)
    if (Number.isNaN(ms)) continue
    if ((candidate as string).length > 10) return ms
    if (Number.isNaN(dateOnly)) dateOnly = ms
  }
  return dateOnly
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}
