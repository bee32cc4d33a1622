import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { ServiceConfig } from '../config'
import type { WorkspaceRegistry } from '../workspace/workspace-registry'
import type { ReceivedEvent } from '../pipeline/map-events'
import type { DoorAnswer } from './deliver-events'
import type { ServedWorkspace } from './door-policy'
import { answerError, errorSummary, type RefusedRequest } from './door-answer'
import type { DoorName } from './door-route'
import type { Metrics } from './metrics'
import { requestLogger } from './request-id'

/** One request at a door: what the door reads, where it answers, the log that carries its request id. */
export type DoorRequest = {
  req: IncomingMessage
  res: ServerResponse
  /** The path's parameter: the workspace (webhook) or the call (Tracking API). */
  param: string
  log: Logger
  /** What the refusal log line says of this request; the door sets `workspace` once the sender is authenticated. */
  refused: RefusedRequest
}

/** A door: answers its request, or throws what `answerError` answers. */
export type Door = (request: DoorRequest) => Promise<void>

/** What a door does with a request's events once read: deliver them (direct mode) or store them (queue mode). */
export type HandleEvents = (events: ReceivedEvent[], workspace: ServedWorkspace, door: DoorName, deadline: number, logger: Logger) => Promise<DoorAnswer>

/** What both doors are built from. */
export type DoorDeps = {
  config: Readonly<ServiceConfig>
  registry: WorkspaceRegistry<ServedWorkspace>
  /** The budget each door request has, from the time its body is read. */
  budgetMs: number
  now: () => number
  handleEvents: HandleEvents
}

/**
 * Runs a door on a request: gives it a request id (X-Request-Id) and a log carrying it,
 * answers what it throws, and times it until it answered. Plain node:http, no express:
 * express's routing alone cost about half the bare echo's CPU per request (BENCHMARKS.md).
 */
export function runDoor(door: Door, name: DoorName, param: string, req: IncomingMessage, res: ServerResponse, deps: { logger: Logger; metrics: Metrics }): void {
  const end = deps.metrics.httpLatency.startTimer({ route: name })
  // Timed until the answer is written out: a request whose client went away is not counted.
  res.once('finish', () => end({ status: String(res.statusCode) }))
  const log = requestLogger(deps.logger, req, res)
  const request: DoorRequest = { req, res, param, log, refused: { method: req.method, door: name, workspace: undefined } }
  door(request).catch((error: unknown) => {
    try {
      // Never a second answer: a failure after the answer went out is only logged.
      if (res.headersSent) log.error({ err: errorSummary(error) }, 'failed after answering')
      else answerError(res, error, request.refused, log)
    } catch (failure) {
      // The last resort: no failure of a door may end the process (an unhandled rejection would).
      log.error({ err: errorSummary(failure) }, 'could not answer a failed request')
      res.destroy()
    }
  })
}
