import type { ReceivedEvent } from './deliver-events'

/**
 * Splits a decoded door body into events, refusing each one over `maxEventBytes`
 * (Segment's 32 KB per-event limit). Sizes are measured only when the whole body
 * is over the limit, so the common small request pays nothing.
 */
export function eventsOf(values: readonly unknown[], bodyBytes: number, maxEventBytes: number): ReceivedEvent[] {
  if (bodyBytes <= maxEventBytes) return values.map((value) => ({ value }))
  return values.map((value) => {
    const size = Buffer.byteLength(JSON.stringify(value) ?? '')
    return size > maxEventBytes
      ? { value, refused: `the event is ${size} bytes, over the ${maxEventBytes}-byte limit` }
      : { value }
  })
}
