import type { Logger } from 'pino'
import { maskEmails } from '../json/mask-emails'
import type { DropTally } from '../pipeline/drop-tally'
import type { Drop } from '../pipeline/map-events'
import type { Metrics } from './metrics'

/** An event a door refused as invalid, as its answer lists it. */
export type InvalidEvent = Omit<Drop, 'reason'>

/** A door request's drops as its answer and log show them: details masked, the invalid ones apart. */
export type DoorDrops = {
  /** Every event not sent, in order, invalid ones too: what the log says once the request is answered for good. */
  all: Drop[]
  invalid: InvalidEvent[]
  /** Dropped on purpose (not invalid). */
  dropped: Drop[]
}

/** Splits the mapping's drops for a door's answer. Details may quote the event (a type, a key, a parser's message): emails are masked. */
export function doorDrops(drops: readonly Drop[]): DoorDrops {
  const all = drops.map((drop) => ({ ...drop, detail: maskEmails(drop.detail) }))
  const invalid: InvalidEvent[] = []
  const dropped: Drop[] = []
  for (const drop of all) {
    if (drop.reason === 'invalid_event') invalid.push({ index: drop.index, messageId: drop.messageId, detail: drop.detail })
    else dropped.push(drop)
  }
  return { all, invalid, dropped }
}

/** Logs each event not sent, once (no email in its id or detail), and counts the drops by reason. */
export function recordDrops(drops: DoorDrops, tally: DropTally, where: { workspace: string; door: string; logger: Logger; metrics: Metrics }): void {
  const { workspace, door } = where
  for (const [reason, count] of Object.entries(tally)) where.metrics.eventsDropped.inc({ workspace, reason }, count)
  for (const drop of drops.all) {
    const messageId = drop.messageId === null ? null : maskEmails(drop.messageId)
    where.logger.info({ workspace, door, messageId, reason: drop.reason, detail: drop.detail }, 'event dropped')
  }
}
