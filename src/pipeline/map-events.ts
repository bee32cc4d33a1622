import type { DropReason } from '../drop-reasons'
import type { CompiledMapping, MapResult } from '../mapping/compile-mapping'
import { messageIdOf } from '../segment/message-id'
import { countDrop, type DropTally } from './drop-tally'

/** One event as a door received it: decoded, or refused before mapping (too large, not JSON) with why. */
export type ReceivedEvent = { value: unknown; refused?: string }

/** An event not forwarded and why, by its place among the events received. */
export type Drop = { index: number; messageId: string | null; reason: DropReason; detail: string }

/** What a workspace's mapping made of a list of events. */
export type MappedEvents = {
  /** One per event received, in order: its entries, or why it was dropped. */
  results: MapResult[]
  /** The dropped events per reason, refused ones (`invalid_event`) included. */
  tally: DropTally
  /** Every dropped event, in order, with its detail. */
  drops: Drop[]
  /** Events that became entries. */
  toSend: number
}

/**
 * Maps each event with the workspace's compiled mapping; an event refused before mapping
 * is an `invalid_event` drop with the refusal as its detail. Drops are tallied here, once,
 * for every door.
 */
export function mapEvents(events: readonly ReceivedEvent[], mapping: CompiledMapping, options: { explain?: boolean } = {}): MappedEvents {
  const mapped: MappedEvents = { results: new Array<MapResult>(events.length), tally: {}, drops: [], toSend: 0 }
  const mapOptions = options.explain === true ? { explain: true } : undefined
  for (let index = 0; index < events.length; index++) {
    const event = events[index]
    const result: MapResult =
      event.refused !== undefined
        ? { outcome: 'drop', messageId: messageIdOf(event.value), reason: 'invalid_event', detail: event.refused }
        : mapping.map(event.value, mapOptions)
    mapped.results[index] = result
    if (result.outcome === 'send') {
      mapped.toSend++
      continue
    }
    countDrop(mapped.tally, result.reason)
    mapped.drops.push({ index, messageId: result.messageId, reason: result.reason, detail: result.detail })
  }
  return mapped
}
