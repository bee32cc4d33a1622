import type { SegmentEvent } from '../segment/event-schema'
import { firstTimeMs, isCanonicalIso } from '../segment/iso-time'

/**
 * The entry's `sent_at` as ISO 8601 UTC (what Koala's `date-time` wants): the mapped value,
 * else the Spec's `timestamp`, `originalTimestamp`, `receivedAt`, read strictly (see
 * segment/iso-time.ts). A malformed or impossible time counts as missing; a date without a
 * time loses to a later candidate that has one. Undefined when nothing reads.
 */
export function resolveSentAt(mapped: unknown, event: SegmentEvent): string | undefined {
  // The common case: the mapping's value is already what Koala wants.
  if (isCanonicalIso(mapped)) return mapped
  if (mapped === undefined && isCanonicalIso(event.timestamp)) return event.timestamp
  const ms = firstTimeMs([mapped, event.timestamp, event.originalTimestamp, event.receivedAt])
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}
