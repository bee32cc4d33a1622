import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import type { DeliveryPolicy, ServiceConfig } from '../config'
import type { KoalaClient, SetTimer } from '../koala/koala-client'
import type { WorkspaceRegistry } from '../workspace/workspace-registry'
import type { ServedWorkspace } from './door-policy'
import { deliverEvents } from './deliver-events'
import { enqueueEvents } from './enqueue-events'
import type { QueueMode } from './queue-mode'
import type { DeliveredMemory } from './delivered-memory'
import type { Metrics } from './metrics'
import type { WorkspaceHealth } from './workspace-health'
import { AdapterError } from '../errors'
import { answerError } from './door-answer'
import { runDoor, type HandleEvents } from './door-request'
import { doorRoute } from './door-route'
import { trackingDoor } from './tracking-door'
import { webhookDoor } from './webhook-door'
import { adminCheck, adminRoutes } from './admin-routes'

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

/**
 * The service's request handler: the webhook and Tracking API doors on plain node:http, and
 * an express app for the rest (health, readiness, metrics, JSON 404s). The doors are the hot
 * path, where express's routing alone cost about half a bare echo's CPU per request.
 */
export function createApp(deps: AppDeps): RequestListener {
  const { config, registry, metrics, logger } = deps
  // Picked once: a request pays one function call for the mode, not a branch per step.
  const queue = deps.queue
  const delivery = { client: deps.client, metrics, logger, policy: deps.policy, delivered: deps.delivered, health: deps.health }
  const handleEvents: HandleEvents =
    queue === undefined
      ? (events, workspace, door, deadline, log) => deliverEvents(events, workspace, door, deadline, { ...delivery, logger: log })
      : (events, workspace, door, deadline, log) => enqueueEvents(events, workspace, door, deadline, { store: queue.store, wake: queue.wake, metrics, logger: log, now: deps.now, setTimer: deps.setTimer })
  const doorDeps = { config, registry, budgetMs: deps.policy.budgetMs, now: deps.now, handleEvents }
  const doors = { webhook: webhookDoor(doorDeps), tracking: trackingDoor(doorDeps) }
  const runDeps = { logger, metrics }
  const rest = otherRoutes(deps)

  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      let route
      try {
        route = doorRoute(req.url ?? '')
      } catch (error) {
        answerError(res, error, { method: req.method, door: 'none', workspace: undefined }, logger)
        return
      }
      if (route !== undefined) {
        runDoor(doors[route.door], route.door, route.param, req, res, runDeps)
        return
      }
    }
    rest(req, res)
  }
}

/** Everything but the doors: `/healthz`, `/readyz` and `/metrics` (unless ADMIN_PORT takes them), JSON 404s. */
function otherRoutes(deps: AppDeps): express.Express {
  const { config, registry, metrics } = deps
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true })
  })
  // With ADMIN_PORT they live there alone: this port then shows neither workspace names nor metrics (404).
  if (config.adminPort === undefined) app.use(adminRoutes({ registry, metrics, health: deps.health, queueStatus: deps.queue?.status }, adminCheck(config.adminToken, false)))
  app.use((_req, _res, next) => next(new AdapterError('NOT_FOUND', 'no such route')))
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    // The path may hold a mistyped key in place of a workspace name: the log line never has it.
    answerError(res, error, { method: req.method, door: 'none', workspace: undefined }, deps.logger)
  })
  return app
}
