import pLimit from 'p-limit'
import type { Logger } from 'pino'
import type { DropReason } from '../drop-reasons'
import type { ErrorCode } from '../errors'
import { ERROR_STATUS } from './error-status'
import { groupByPerson } from '../koala/batcher'
import type { DeliveryResult, KoalaClient } from '../koala/koala-client'
import type { KoalaEntry, KoalaRequest } from '../koala/request-schema'
import type { MapResult } from '../mapping/compile-mapping'
import { messageIdOf } from '../segment/message-id'
import type { Workspace } from '../mapping/workspace-registry'
import type { Metrics } from './metrics'

/** One event as a door received it: decoded, or refused before mapping (e.g. too large). */
export type ReceivedEvent = { value: unknown; refused?: string }

/** What a door answers, decided from what happened to every event. */
export type DoorAnswer = { status: number; retryAfterSec?: number; body: Record<string, unknown> }

export type DeliveryDeps = {
  client: KoalaClient
  metrics: Metrics
  logger: Logger
  /** Requests to Koala in flight for one door request. */
  concurrency: number
}

const MAX_LISTED = 100

/**
 * Maps, batches and delivers one door request's events, then decides the answer
 * (DESIGN.md "Delivery semantics"): 503/429 while Koala is unavailable, 400 for a
 * permanent Koala rejection or for our own invalid input, else 200. Nothing is
 * answered 2xx unless it was delivered or deliberately dropped.
 */
export async function deliverEvents(
  events: readonly ReceivedEvent[],
  workspace: Workspace,
  door: string,
  deadline: number,
  deps: DeliveryDeps
): Promise<DoorAnswer> {
  const { metrics } = deps
  metrics.eventsReceived.inc({ door, workspace: workspace.name }, events.length)

  const results: MapResult[] = events.map((event) =>
    event.refused !== undefined
      ? { outcome: 'drop', messageId: messageIdOf(event.value), reason: 'invalid_event', detail: event.refused }
      : workspace.compiled.map(event.value)
  )
  const entries: KoalaEntry[] = []
  const reasons: Partial<Record<DropReason, number>> = {}
  const invalid: Array<{ index: number; messageId: string | null; detail: string }> = []
  const drops: Array<{ index: number; messageId: string | null; reason: DropReason; detail: string }> = []
  let toSend = 0
  results.forEach((result, index) => {
    if (result.outcome === 'send') {
      toSend++
      entries.push(...result.entries)
      return
    }
    reasons[result.reason] = (reasons[result.reason] ?? 0) + 1
    if (result.reason === 'invalid_event') invalid.push({ index, messageId: result.messageId, detail: result.detail })
    else drops.push({ index, messageId: result.messageId, reason: result.reason, detail: result.detail })
  })

  const requests = groupByPerson(entries)
  const deliver = (request: KoalaRequest) => deps.client.send(request, workspace.koala, { deadline })
  // p-limit costs an async resource per call: only pay for it when there is something to limit.
  const limit = requests.length > deps.concurrency ? pLimit(deps.concurrency) : undefined
  const outcomes: DeliveryResult[] = await Promise.all(
    requests.map((request) => (limit === undefined ? deliver(request) : limit(() => deliver(request))))
  )
  const unavailable = outcomes.filter((o): o is Extract<DeliveryResult, { kind: 'unavailable' }> => !o.ok && o.kind === 'unavailable')
  const rejected = outcomes.filter((o): o is Extract<DeliveryResult, { kind: 'rejected' }> => !o.ok && o.kind === 'rejected')

  const summary: Record<string, unknown> = {
    received: events.length,
    delivered: unavailable.length === 0 && rejected.length === 0 ? toSend : 0,
    dropped: results.length - toSend - invalid.length,
    reasons,
    requests: requests.length
  }
  if (drops.length > 0) summary.drops = drops.slice(0, MAX_LISTED)

  const log = { workspace: workspace.name, door, events: events.length, requests: requests.length, reasons }
  if (unavailable.length > 0) {
    const all429 = unavailable.every((o) => o.status === 429)
    const retryAfterSec = Math.max(1, Math.ceil(Math.max(0, ...unavailable.map((o) => o.retryAfterMs ?? 0)) / 1000))
    deps.logger.warn({ ...log, unavailable: unavailable.length, status: unavailable[0].status, code: unavailable[0].code }, 'Koala unavailable; asking Segment to retry')
    return {
      status: all429 ? 429 : ERROR_STATUS.KOALA_UNAVAILABLE,
      retryAfterSec,
      body: { ...summary, error: `Koala is unavailable (${unavailable[0].message}); retry later`, code: 'KOALA_UNAVAILABLE' satisfies ErrorCode }
    }
  }
  if (rejected.length > 0) {
    deps.logger.error({ ...log, rejected: rejected.length, status: rejected[0].status }, 'Koala rejected a request')
    return {
      status: ERROR_STATUS.KOALA_REJECTED,
      body: { ...summary, error: `Koala rejected ${rejected.length} of ${requests.length} requests with ${rejected[0].status}`, code: 'KOALA_REJECTED' satisfies ErrorCode, koala: rejected[0].error }
    }
  }
  metrics.eventsDelivered.inc({ workspace: workspace.name }, toSend)
  for (const [reason, count] of Object.entries(reasons)) metrics.eventsDropped.inc({ workspace: workspace.name, reason }, count)
  if (invalid.length > 0) {
    deps.logger.info({ ...log, invalid: invalid.length }, 'invalid events refused')
    return {
      status: ERROR_STATUS.INPUT_INVALID,
      body: { ...summary, error: `${invalid.length} of ${events.length} events are invalid`, code: 'INPUT_INVALID' satisfies ErrorCode, invalid: invalid.slice(0, MAX_LISTED) }
    }
  }
  deps.logger.info(log, 'delivered')
  return { status: 200, body: summary }
}

