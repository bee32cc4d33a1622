import type { Logger } from 'pino'
import { AdapterError, type ErrorCode } from '../errors'
import type { SetTimer } from '../koala/koala-client'
import { renderEntry } from '../koala/rendered-request'
import { mapEvents, type ReceivedEvent } from '../pipeline/map-events'
import { QUEUE_WRITE_FAILED_ANSWER } from '../queue/queue-errors'
import type { QueueEntryInput, QueueStore } from '../queue/queue-store'
import type { Workspace } from '../workspace/resolve-workspace'
import type { DoorAnswer } from './deliver-events'
import { doorDrops, recordDrops } from './door-drops'
import { ERROR_STATUS } from './error-status'
import type { Metrics } from './metrics'

export type EnqueueDeps = {
  store: QueueStore
  metrics: Metrics
  logger: Logger
  /** Tells the deliverer entries were stored. */
  wake: () => void
  /** The clock and timer the request's budget runs on (tests inject them). */
  now: () => number
  setTimer: SetTimer
}

/**
 * When the store refuses a request (full, or its disk or database refuses the write), the
 * sender is asked to come back after this: long enough for the deliverer to drain some or
 * an operator to act, short next to Segment's hours of retries and analytics-node's backoff.
 */
export const QUEUE_REFUSED_RETRY_AFTER_SEC = 30

const MAX_LISTED = 100

/**
 * The append, or QUEUE_WRITE_FAILED once the request's budget (REQUEST_BUDGET_MS) is spent: a
 * database stuck on a lock must not hold the sender past its own timeout (Segment's is 5 s),
 * and a 503 makes it send again. The append may still commit after; its events then arrive
 * twice, with the same message_id, which Koala deduplicates.
 */
function withinBudget<T>(append: Promise<T>, deadline: number, deps: Pick<EnqueueDeps, 'now' | 'setTimer'>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = deps.setTimer(
      () => reject(new AdapterError('QUEUE_WRITE_FAILED', 'the queue store did not commit within the request budget (REQUEST_BUDGET_MS); the sender will send the request again')),
      Math.max(0, deadline - deps.now())
    )
    append.then(
      (value) => {
        cancel()
        resolve(value)
      },
      (error: unknown) => {
        cancel()
        reject(error)
      }
    )
  })
}

/**
 * The message_id as the store keeps it: PostgreSQL refuses a NUL in text (22021), so each
 * becomes the six characters \u0000, as JSON writes it. The entry, its key and body fields are
 * JSON already, where a NUL is written that way.
 */
export function storableMessageId(messageId: string): string {
  return messageId.replaceAll('\u0000', '\\u0000')
}

/**
 * Queue mode's door: maps the events, stores their Koala entries durably (the answer waits
 * for the commit), then answers 200 with what was queued and dropped; the deliverer sends
 * them later. Invalid events are answered 400 as in direct mode, after the valid ones are
 * stored. A store that refuses (QUEUE_FULL, QUEUE_WRITE_FAILED) stored nothing: 503 with
 * Retry-After, and the sender sends the whole request again.
 */
export async function enqueueEvents(events: readonly ReceivedEvent[], workspace: Workspace, door: string, deadline: number, deps: EnqueueDeps): Promise<DoorAnswer> {
  const { metrics } = deps
  const name = workspace.name
  metrics.eventsReceived.inc({ door, workspace: name }, events.length)
  const { results, tally: reasons, drops, toSend } = mapEvents(events, workspace.compiled)
  const entries: QueueEntryInput[] = []
  for (const result of results) {
    if (result.outcome !== 'send') continue
    for (const entry of result.entries) {
      const rendered: QueueEntryInput = renderEntry(entry)
      if (result.messageId !== null) rendered.messageId = storableMessageId(result.messageId)
      entries.push(rendered)
    }
  }
  const log = { workspace: name, door, events: events.length, entries: entries.length, reasons }
  try {
    await withinBudget(deps.store.append(name, entries), deadline, deps)
  } catch (error) {
    if (!(error instanceof AdapterError) || (error.code !== 'QUEUE_FULL' && error.code !== 'QUEUE_WRITE_FAILED')) throw error
    deps.logger.error({ ...log, code: error.code, error: error.message }, 'queue refused the request; the sender will send it again')
    const answer = error.code === 'QUEUE_WRITE_FAILED' ? QUEUE_WRITE_FAILED_ANSWER : error.message
    return { status: ERROR_STATUS[error.code], retryAfterSec: QUEUE_REFUSED_RETRY_AFTER_SEC, body: { error: answer, code: error.code } }
  }
  if (entries.length > 0) deps.wake()
  metrics.eventsQueued.inc({ workspace: name }, toSend)

  const split = doorDrops(drops)
  const { invalid, dropped } = split
  recordDrops(split, reasons, { workspace: name, door, logger: deps.logger, metrics })
  const summary: Record<string, unknown> = { received: events.length, queued: toSend, dropped: dropped.length, reasons }
  if (dropped.length > 0) summary.drops = dropped.slice(0, MAX_LISTED)
  if (invalid.length > 0) {
    summary.invalid = invalid.slice(0, MAX_LISTED)
    deps.logger.info({ ...log, invalid: invalid.length }, 'invalid events refused; the others queued')
    return {
      status: ERROR_STATUS.INPUT_INVALID,
      body: { ...summary, error: `${invalid.length} of ${events.length} events are invalid; the other ${toSend} were queued`, code: 'INPUT_INVALID' satisfies ErrorCode }
    }
  }
  deps.logger.info(log, toSend > 0 ? 'queued' : 'nothing queued: every event dropped')
  return { status: 200, body: summary }
}
