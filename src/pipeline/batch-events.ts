import { EntryGrouper, keyOfEntry, toKoalaRequest, type EntryGroup } from '../koala/batcher'
import type { KoalaEntry, KoalaRequest } from '../koala/request-schema'
import type { MapResult } from '../mapping/compile-mapping'

/** A list of events' Koala requests, and which events each one carries. */
export type EventRequests = {
  requests: KoalaRequest[]
  /** The indexes of the events with an entry in request `i` (one per entry, so an event may repeat). */
  eventsOf(i: number): number[]
}

type SendResult = Extract<MapResult, { outcome: 'send' }>

/**
 * Groups the entries of the mapped events that `include` takes into requests per person
 * (and per account), at most 30 entries of a kind each, as groupByPerson does,
 * remembering which event each entry came from: an event is delivered when every
 * request carrying one of its entries was.
 */
export function batchEvents(results: readonly MapResult[], include: (result: SendResult, index: number) => boolean = () => true): EventRequests {
  const grouper = new EntryGrouper<KoalaEntry>(keyOfEntry)
  const groups: Array<EntryGroup<KoalaEntry>> = []
  const eventOf = new Map<KoalaEntry, number>()
  results.forEach((result, index) => {
    if (result.outcome !== 'send' || !include(result, index)) return
    for (const entry of result.entries) {
      eventOf.set(entry, index)
      const closed = grouper.add(entry)
      if (closed !== undefined) groups.push(closed)
    }
  })
  groups.push(...grouper.flush())
  return {
    requests: groups.map(toKoalaRequest),
    eventsOf: (i) => Object.values(groups[i].lists).flatMap((list) => list.map((entry) => eventOf.get(entry) as number))
  }
}
