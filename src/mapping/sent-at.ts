import type { SegmentEvent } from '../segment/event-schema'

// What toISOString() itself writes, with days up to 28 (later days may roll over into
// the next month in Date): such a string is returned as it is, saving ~1 µs of Date
// parsing on nearly every event (Segment's libraries send this form).
const CANONICAL_ISO = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/

/** ISO 8601 in UTC, as Koala's `date-time` wants; an unparseable time is left out. */
function toIsoDate(value: unknown): string | undefined {
  if (typeof value === 'string' && CANONICAL_ISO.test(value)) return value
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** The entry's `sent_at`: the mapped value, else the Spec's timestamps in order; the first time that parses wins. */
export function resolveSentAt(mapped: unknown, event: SegmentEvent): string | undefined {
  // A garbled timestamp falls back like a missing one.
  return toIsoDate(mapped) ?? toIsoDate(event.timestamp) ?? toIsoDate(event.originalTimestamp) ?? toIsoDate(event.receivedAt)
}
