import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import type { Logger } from 'pino'
import type { DeliveryPolicy, ServiceConfig } from '../config'
import type { KoalaClient, SetTimer } from '../koala/koala-client'
import type { WorkspaceRegistry } from '../workspace/workspace-registry'
import type { ServedWorkspace } from './door-policy'
import { WriteKeyIndex } from './write-key-index'
import { SEGMENT_EVENT_TYPES } from '../segment/event-schema'
import { unwrapEnvelope } from '../segment/read-events'
import { deliverEvents, type DoorAnswer } from './deliver-events'
import { enqueueEvents } from './enqueue-events'
import type { ReceivedEvent } from '../pipeline/map-events'
import type { QueueMode } from './queue-mode'
import { eventsOf } from './door-events'
import type { DeliveredMemory } from './delivered-memory'
import type { Metrics } from './metrics'
import type { WorkspaceHealth } from './workspace-health'
import { AdapterError } from '../errors'
import { ERROR_STATUS } from './error-status'
import { inflateBody, parseJson, receiveBody, requestError, type ReceivedBody } from './read-body'
import { readWebhookBody, webhookCredentials, type WebhookCredentials } from './webhook-auth'
import { writeKeyOfBody, writeKeyOfHeader } from './write-key'
import { adminCheck, adminRoutes } from './admin-routes'
import { requestLogger } from './request-id'

/**
 * How much of a Tracking API body without a write key in its headers is inflated to look
 * for one in the body: Segment's limit for a batch (500 KB; analytics-node 2.x, the one
 * that sends the key in the body, keeps to it), with room to spare.
 */
const UNAUTHENTICATED_TRACKING_BYTES = 512 * 1024

export type AppDeps = {
  config: Readonly<ServiceConfig>
  /** How the doors deliver: requests in flight per door request, and the budget each door request has. */
  policy: DeliveryPolicy
  registry: WorkspaceRegistry<ServedWorkspace>
  client: KoalaClient
  metrics: Metrics
  logger: Logger
  health: WorkspaceHealth
  delivered: DeliveredMemory
  /** The clock and timer request budgets run on (tests inject them). */
  now: () => number
  setTimer: SetTimer
  /** Queue mode: the doors store the events and answer; unset: direct mode, they deliver before answering. */
  queue?: Pick<QueueMode, 'store' | 'wake' | 'status'>
}

/** What a door does with a request's events once read: deliver them (direct mode) or store them (queue mode). */
type HandleEvents = (events: ReceivedEvent[], workspace: ServedWorkspace, door: string, deadline: number, logger: Logger) => Promise<DoorAnswer>

const TRACKING_CALLS = new Set<string>(SEGMENT_EVENT_TYPES)

/** The service's express app: the webhook and Tracking API doors, health and metrics. */
export function createApp(deps: AppDeps): express.Express {
  const { config, registry, metrics } = deps
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  const body = receiveBody(config)
  const delivery = { client: deps.client, metrics, logger: deps.logger, policy: deps.policy, delivered: deps.delivered, health: deps.health }
  // Picked once: a request pays one function call for the mode, not a branch per step.
  const queue = deps.queue
  const handleEvents: HandleEvents =
    queue === undefined
      ? (events, workspace, door, deadline, logger) => deliverEvents(events, workspace, door, deadline, { ...delivery, logger })
      : (events, workspace, door, deadline, logger) => enqueueEvents(events, workspace, door, deadline, { store: queue.store, wake: queue.wake, metrics, logger, now: deps.now, setTimer: deps.setTimer })

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true })
  })
  // With ADMIN_PORT they live there alone: this port then shows neither workspace names nor metrics (404).
  if (config.adminPort === undefined) app.use(adminRoutes({ registry, metrics, health: deps.health, queueStatus: deps.queue?.status }, adminCheck(config.adminToken, false)))

  // What a webhook can be refused for without its body is checked before the body is read
  // (up to maxBodyBytes): a request without credentials costs us only its headers. An
  // unknown workspace is answered as a known one without the right credentials.
  const webhookGate = (req: Request, res: Response): void => {
    const workspace = registry.get(String(req.params.workspace))
    res.locals.workspace = workspace
    res.locals.credentials = webhookCredentials(workspace, req.header('authorization'), req.header('x-signature'))
  }
  app.post('/webhook/:workspace', timedBody('webhook', metrics, deps.logger, body, webhookGate), async (req, res) => {
    const deadline = deps.now() + deps.policy.budgetMs
    const decoded = await readWebhookBody(res.locals.body as ReceivedBody, res.locals.credentials as WebhookCredentials, res.locals.workspace as ServedWorkspace | undefined, config)
    // Only an unknown workspace's signature can never match: past this line the workspace exists.
    const workspace = res.locals.workspace as ServedWorkspace
    res.locals.authenticated = workspace.name
    const values = Array.isArray(decoded.json) ? decoded.json : [decoded.json]
    if (values.length === 0) throw new AdapterError('INPUT_INVALID', 'the body is an empty array')
    if (values.length > config.maxBatchEvents) throw new AdapterError('BODY_TOO_LARGE', `the body has ${values.length} events; at most ${config.maxBatchEvents}`)
    const answer = await handleEvents(eventsOf(values, decoded.raw, 'body', config.maxEventBytes), workspace, 'webhook', deadline, res.locals.log as Logger)
    send(res, answer)
  })

  // A write key in the Authorization header is checked before the body is read; one in
  // the body is found by a scan of its top-level keys, and the body parsed only after.
  const trackingGate = (req: Request, res: Response): void => {
    const call = String(req.params.call)
    if (call !== 'batch' && !TRACKING_CALLS.has(call)) throw new AdapterError('NOT_FOUND', `unknown Tracking API call /v1/${call.slice(0, 32)}`)
    const writeKey = writeKeyOfHeader(req.header('authorization'))
    if (writeKey !== undefined) res.locals.workspace = workspaceOfKey(writeKey)
  }
  const writeKeys = new WriteKeyIndex(registry)
  const workspaceOfKey = (writeKey: string | undefined): ServedWorkspace => {
    if (writeKey === undefined) throw new AdapterError('UNAUTHORIZED', 'a write key is required: Basic auth "<writeKey>:" or "writeKey" in the body')
    const workspace = writeKeys.lookup(writeKey)
    if (workspace === undefined) throw new AdapterError('UNAUTHORIZED', 'unknown write key')
    return workspace
  }
  app.post('/v1/:call', timedBody('tracking', metrics, deps.logger, body, trackingGate), async (req, res) => {
    const deadline = deps.now() + deps.policy.budgetMs
    const call = String(req.params.call)
    const known = res.locals.workspace as ServedWorkspace | undefined
    // A stranger's body is inflated and scanned for its writeKey no further than Segment's batch limit.
    const raw = await inflateBody(res.locals.body as ReceivedBody, known === undefined ? Math.min(config.maxBodyBytes, UNAUTHENTICATED_TRACKING_BYTES) : config.maxBodyBytes).catch((error: unknown) => {
      if (known !== undefined || !(error instanceof AdapterError) || error.code !== 'BODY_TOO_LARGE') throw error
      throw new AdapterError('BODY_TOO_LARGE', `a body over ${UNAUTHENTICATED_TRACKING_BYTES} bytes needs its write key in the Authorization header (Basic "<writeKey>:"), not in the body`)
    })
    const workspace = known ?? workspaceOfKey(writeKeyOfBody(raw))
    res.locals.authenticated = workspace.name
    const decoded = { raw, json: parseJson(raw, config) }
    const values = call === 'batch' ? batchOf(decoded.json) : [withType(decoded.json, call)]
    if (values.length > config.maxBatchEvents) throw new AdapterError('BODY_TOO_LARGE', `the batch has ${values.length} events; at most ${config.maxBatchEvents}`)
    const answer = await handleEvents(eventsOf(values, decoded.raw, call === 'batch' ? 'batch' : 'body', config.maxEventBytes), workspace, 'tracking', deadline, res.locals.log as Logger)
    send(res, answer.status === 200 ? { ...answer, body: { success: true, ...answer.body } } : answer)
  })

  app.use((_req, _res, next) => next(new AdapterError('NOT_FOUND', 'no such route')))
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const log = (res.locals.log as Logger | undefined) ?? deps.logger
    const known = requestError(error)
    if (known !== undefined) {
      const status = ERROR_STATUS[known.code]
      // Refusals are logged too: a flood of bad signatures must leave a trace. Our messages never hold secrets;
      // the path may (a mistyped key in place of a workspace name), so only the door and an authenticated workspace are.
      log.info({ method: req.method, door: res.locals.door ?? 'none', workspace: res.locals.authenticated, status, code: known.code }, 'refused')
      res.status(status).json({ error: known.message, code: known.code })
      return
    }
    log.error({ err: { message: (error as Error).message, name: (error as Error).name } }, 'unexpected error')
    // 500 makes Segment retry: an event we failed on is never acknowledged.
    res.status(ERROR_STATUS.INTERNAL).json({ error: 'internal error; Segment will retry', code: 'INTERNAL' })
  })
  return app
}

/** Writes the answer in one go: express's res.json() costs several times this on the door's hot path. */
function send(res: Response, answer: DoorAnswer): void {
  const text = JSON.stringify(answer.body)
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }
  if (answer.retryAfterSec !== undefined) headers['Retry-After'] = String(answer.retryAfterSec)
  res.writeHead(answer.status, headers).end(text)
}

function batchOf(json: unknown): unknown[] {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { batch?: unknown }).batch)) {
    throw new AdapterError('INPUT_INVALID', '/v1/batch needs a body {"batch": [...events]}')
  }
  return unwrapEnvelope(json as { batch: unknown[] })
}

/** `/v1/track` and friends imply the call's type, as Segment's API does. */
function withType(json: unknown, call: string): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new AdapterError('INPUT_INVALID', `/v1/${call} needs one event object`)
  const event = json as Record<string, unknown>
  return event.type === undefined ? { ...event, type: call } : event
}

/**
 * Starts the door's latency timer and its request id (X-Request-Id), runs the door's `gate` (the refusals that need no
 * body; it throws them), then reads the body: one middleware, as each one costs a
 * router dispatch per request.
 */
function timedBody(route: string, metrics: Metrics, logger: Logger, body: RequestHandler, gate: (req: Request, res: Response) => void): RequestHandler {
  return (req, res, next) => {
    res.locals.door = route
    res.locals.log = requestLogger(logger, req, res)
    const end = metrics.httpLatency.startTimer({ route })
    res.on('finish', () => end({ status: String(res.statusCode) }))
    try {
      gate(req, res)
    } catch (error) {
      next(error)
      return
    }
    body(req, res, next)
  }
}
