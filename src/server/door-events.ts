import type { ReceivedEvent } from '../pipeline/map-events'
import { eventByteSizes, type EventsAt } from './event-sizes'
import { AdapterError } from '../errors'

/**
 * Pairs a decoded door body's events with their refusal when one is over
 * `maxEventBytes` (Segment's 32 KB per-event limit), measured as the event's bytes in
 * the body as received. Sizes are measured only when the whole body is over the limit,
 * so the common small request pays nothing.
 */
export function eventsOf(values: readonly unknown[], raw: Uint8Array, at: EventsAt, maxEventBytes: number): ReceivedEvent[] {
  if (raw.length <= maxEventBytes) return values.map((value) => ({ value }))
  const sizes = eventByteSizes(raw, at)
  if (sizes === undefined || sizes.length !== values.length) {
    throw new AdapterError('INTERNAL', `found ${sizes?.length ?? 'no'} events in the raw body, ${values.length} in the decoded one`)
  }
  return values.map((value, index) =>
    sizes[index] > maxEventBytes
      ? { value, refused: `the event is ${sizes[index]} bytes, over the ${maxEventBytes}-byte limit` }
      : { value }
  )
}
