import type { Logger } from 'pino'
import type { DeliveryPolicy } from '../config'
import type { ErrorCode } from '../errors'
import { doorDrops, recordDrops } from './door-drops'
import { ERROR_STATUS } from './error-status'
import type { DeliveryResult, KoalaClient } from '../koala/koala-client'
import { refusesTheEvents } from '../koala/retry-policy'
import type { Workspace } from '../workspace/resolve-workspace'
import { batchEvents } from '../pipeline/batch-events'
import { deliverRequests } from '../pipeline/deliver-requests'
import { mapEvents, type ReceivedEvent } from '../pipeline/map-events'
import type { DeliveredMemory } from './delivered-memory'
import type { Metrics } from './metrics'
import type { WorkspaceHealth } from './workspace-health'
import { koalaErrorSummary } from '../koala/koala-error-summary'

/** What a door answers, decided from what happened to every event. */
export type DoorAnswer = { status: number; retryAfterSec?: number; body: Record<string, unknown> }

export type DeliveryDeps = {
  client: KoalaClient
  metrics: Metrics
  logger: Logger
  /** The door's delivery policy: its concurrency is per door request (the deadline comes with each call). */
  policy: DeliveryPolicy
  /** What Koala took of requests answered "send again", so their resends send only the rest. */
  delivered: DeliveredMemory
  health: WorkspaceHealth
}

/**
 * The Retry-After of an answer to a Koala refusal of our key or URL: a person has to fix
 * something, so Segment need not come back every few seconds; 5 minutes keeps the delay
 * after the fix short while Segment's 4-hour retry window holds about 48 tries.
 */
export const KOALA_MISCONFIGURED_RETRY_AFTER_SEC = 300

type Failure = Extract<DeliveryResult, { ok: false }>
type Unavailable = Extract<Failure, { kind: 'unavailable' }>

const MAX_LISTED = 100

/**
 * Maps, batches and delivers one door request's events, then decides the answer
 * (README "Delivery semantics"): 503 when Koala refuses our key or URL, 503/429 while
 * Koala is unavailable, 400 for Koala's verdict on some events or for our own invalid
 * input, else 200. Nothing is answered 2xx unless it was delivered or deliberately
 * dropped; events an earlier attempt of the same request delivered are not sent again.
 */
export async function deliverEvents(
  events: readonly ReceivedEvent[],
  workspace: Workspace,
  door: string,
  deadline: number,
  deps: DeliveryDeps
): Promise<DoorAnswer> {
  const { metrics } = deps
  const name = workspace.name
  metrics.eventsReceived.inc({ door, workspace: name }, events.length)

  const { results, tally: reasons, drops: dropped, toSend } = mapEvents(events, workspace.compiled)
  const notSent = doorDrops(dropped)
  const { invalid, dropped: drops } = notSent
  const sent: number[] = []
  const earlier: string[] = []
  const { requests, eventsOf } = batchEvents(results, (result, index) => {
    if (result.messageId !== null && deps.delivered.has(name, result.messageId)) {
      earlier.push(result.messageId)
      return false
    }
    sent.push(index)
    return true
  })
  const outcomes = await deliverRequests(requests, deps.policy, (request) => deps.client.send(request, workspace.koala, { deadline }))

  // An event is delivered when every request carrying one of its entries was.
  const failedEvents = new Map<number, Failure>()
  const unavailable: Unavailable[] = []
  const misconfigured: Array<Extract<Failure, { kind: 'rejected' }>> = []
  const verdicts: Array<Extract<Failure, { kind: 'rejected' }>> = []
  let accepted = false
  outcomes.forEach((outcome, i) => {
    if (outcome.ok) {
      accepted = true
      return
    }
    if (outcome.kind === 'unavailable') unavailable.push(outcome)
    else if (refusesTheEvents(outcome.status)) verdicts.push(outcome)
    else misconfigured.push(outcome)
    for (const index of eventsOf(i)) {
      // A verdict on the events is what the answer reports per event, so it wins over a passing failure.
      const known = failedEvents.get(index)
      if (known === undefined || known.kind === 'unavailable') failedEvents.set(index, outcome)
    }
  })
  const deliveredNow = failedEvents.size === 0 ? sent : sent.filter((index) => !failedEvents.has(index))
  metrics.eventsDelivered.inc({ workspace: name }, deliveredNow.length)
  const idsOf = (indexes: readonly number[]) =>
    indexes.map((index) => results[index].messageId).filter((id): id is string => id !== null)

  const summary: Record<string, unknown> = {
    received: events.length,
    delivered: earlier.length + deliveredNow.length,
    dropped: results.length - toSend - invalid.length,
    reasons,
    requests: requests.length
  }
  if (earlier.length > 0) summary.deliveredEarlier = earlier.length
  if (drops.length > 0) summary.drops = drops.slice(0, MAX_LISTED)

  const log = { workspace: name, door, events: events.length, requests: requests.length, delivered: summary.delivered, reasons }
  if (misconfigured.length > 0 || unavailable.length > 0) {
    // Segment sends this request again: what Koala took now is not sent then.
    deps.delivered.remember(name, idsOf(deliveredNow))
    if (accepted) deps.health.koalaAccepted(name)
    if (misconfigured.length > 0) return refusedConfiguration(misconfigured, unavailable, summary, log, deps, name)
    const all429 = unavailable.every((o) => o.status === 429)
    const retryAfterSec = retryAfterOf(unavailable)
    deps.logger.warn({ ...log, unavailable: unavailable.length, status: unavailable[0].status, code: unavailable[0].code }, 'Koala unavailable; asking Segment to retry')
    return {
      status: all429 ? 429 : ERROR_STATUS.KOALA_UNAVAILABLE,
      retryAfterSec,
      body: { ...summary, error: `Koala is unavailable (${unavailable[0].message}); retry later`, code: 'KOALA_UNAVAILABLE' satisfies ErrorCode }
    }
  }
  // Answered for good: no resend will come for what an earlier attempt delivered.
  if (earlier.length > 0) deps.delivered.forget(name, earlier)
  if (accepted) deps.health.koalaAccepted(name)
  // Logged once, with the answer that settles them (a 503 brings them back with Segment's resend).
  recordDrops(notSent, reasons, { workspace: name, door, logger: deps.logger, metrics })
  if (invalid.length > 0) summary.invalid = invalid.slice(0, MAX_LISTED)
  if (verdicts.length > 0) {
    const refused = [...failedEvents.keys()].sort((a, b) => a - b)
    const status = verdicts[0].status
    deps.logger.error({ ...log, refusedEvents: refused.length, rejected: verdicts.length, status }, 'Koala refused events')
    const others = [`${summary.delivered} delivered`, `${summary.dropped as number} dropped on purpose`]
    if (invalid.length > 0) others.push(`${invalid.length} invalid`)
    return {
      status: ERROR_STATUS.KOALA_REJECTED,
      body: {
        ...summary,
        error: `Koala refused ${refused.length} of ${events.length} events for good (HTTP ${status}); of the others: ${others.join(', ')}`,
        code: 'KOALA_REJECTED' satisfies ErrorCode,
        refused: refused.slice(0, MAX_LISTED).map((index) => ({ index, messageId: results[index].messageId, status: (failedEvents.get(index) as { status: number }).status })),
        koala: koalaErrorSummary(verdicts[0].status, verdicts[0].error)
      }
    }
  }
  if (invalid.length > 0) {
    deps.logger.info({ ...log, invalid: invalid.length }, 'invalid events refused')
    return {
      status: ERROR_STATUS.INPUT_INVALID,
      body: { ...summary, error: `${invalid.length} of ${events.length} events are invalid; the other ${summary.delivered as number} were delivered`, code: 'INPUT_INVALID' satisfies ErrorCode }
    }
  }
  deps.logger.info(log, deliveredNow.length > 0 ? 'delivered' : earlier.length > 0 ? 'delivered by an earlier attempt' : 'nothing delivered: every event dropped')
  return { status: 200, body: summary }
}

/**
 * Koala refused our key or URL (401, 403, 404, ...): the events are fine, so Segment
 * keeps them (503, long Retry-After) while a person fixes the configuration, told
 * loudly in the log once a minute, in a metric and in /readyz.
 */
function refusedConfiguration(
  misconfigured: ReadonlyArray<Extract<Failure, { kind: 'rejected' }>>,
  unavailable: readonly Unavailable[],
  summary: Record<string, unknown>,
  log: Record<string, unknown>,
  deps: DeliveryDeps,
  name: string
): DoorAnswer {
  const status = misconfigured[0].status
  deps.metrics.koalaConfigRefusals.inc({ workspace: name, status: String(status) }, misconfigured.length)
  const hint = status === 404 ? 'its Koala base URL or project key' : 'its Koala public API key'
  if (deps.health.koalaRefused(name, status)) {
    deps.logger.error(
      { ...log, status, refused: misconfigured.length },
      `Koala refuses workspace ${name}'s configuration (HTTP ${status}): check ${hint}. Segment keeps the events and sends them again`
    )
  }
  return {
    status: ERROR_STATUS.KOALA_MISCONFIGURED,
    retryAfterSec: Math.max(KOALA_MISCONFIGURED_RETRY_AFTER_SEC, retryAfterOf(unavailable)),
    body: {
      ...summary,
      error: `Koala refused this workspace's configuration (HTTP ${status}), not the events: the adapter's operator must check ${hint}; send again later`,
      code: 'KOALA_MISCONFIGURED' satisfies ErrorCode
    }
  }
}

/** Seconds Segment should wait: Koala's longest Retry-After, at least 1. */
function retryAfterOf(unavailable: readonly Unavailable[]): number {
  const ms = unavailable.map((o) => o.retryAfterMs ?? 0)
  return Math.max(1, Math.ceil(Math.max(0, ...ms) / 1000))
}
