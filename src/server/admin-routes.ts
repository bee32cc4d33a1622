import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import type { WorkspaceRegistry } from '../workspace/workspace-registry'
import { tokenDigest } from './token-digest'
import { AdapterError } from '../errors'
import { ERROR_STATUS } from './error-status'
import { requestError } from './read-body'
import type { Metrics } from './metrics'
import { bearerOf, verifyBearer } from './signature'
import type { WorkspaceHealth } from './workspace-health'
import type { QueueStatus } from '../queue/queue-store'

export type AdminDeps = {
  registry: WorkspaceRegistry
  metrics: Metrics
  health: WorkspaceHealth
  /** Queue mode: the store's status as last read (depth, dead letters, paused workspaces). */
  queueStatus?: () => QueueStatus | undefined
}

/**
 * Who sees workspace names and metrics. On the public port: the bearer of ADMIN_TOKEN,
 * nobody without one. On the admin port (a private port): anyone, unless ADMIN_TOKEN
 * is set, which is then required there too.
 */
export function adminCheck(adminToken: string | undefined, onAdminPort: boolean): (req: Request) => boolean {
  if (adminToken === undefined) return () => onAdminPort
  const digests = [tokenDigest(adminToken)]
  return (req) => {
    const token = bearerOf(req.header('authorization'))
    return token !== undefined && verifyBearer(token, digests)
  }
}

/** `/readyz` and `/metrics`: on the public app, or alone on the admin port (ADMIN_PORT). */
export function adminRoutes(deps: AdminDeps, isAdmin: (req: Request) => boolean): Router {
  const { registry, metrics, health } = deps
  const router = express.Router()
  // Workspace names are for the operator: a stranger could aim at them. Problems (Koala refusing a key,
  // a stale mapping) are shown, not made "not ready": every replica shares them.
  router.get('/readyz', (req, res) => {
    const ready = registry.ready
    if (!isAdmin(req)) {
      res.status(ready ? 200 : 503).json({ ready })
      return
    }
    const body: Record<string, unknown> = { ready, workspaces: registry.names(), problems: health.problems() }
    const queue = deps.queueStatus?.()
    if (queue !== undefined) {
      body.queue = { depth: queue.depth, deadLetters: queue.deadLetters, paused: queue.workspaces.filter((w) => w.paused).map((w) => ({ workspace: w.workspace, reason: w.pausedReason })), workspaces: queue.workspaces }
    }
    res.status(ready ? 200 : 503).json(body)
  })
  router.get('/metrics', async (req, res) => {
    if (!isAdmin(req)) throw new AdapterError('UNAUTHORIZED', '/metrics needs Authorization: Bearer <ADMIN_TOKEN>')
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
  return router
}

/** The admin port's whole app: `/healthz` for probes, `/readyz`, `/metrics`, JSON 404s. */
export function createAdminApp(deps: AdminDeps, adminToken: string | undefined): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true })
  })
  app.use(adminRoutes(deps, adminCheck(adminToken, true)))
  app.use((_req, _res, next) => next(new AdapterError('NOT_FOUND', 'no such route')))
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const known = requestError(error)
    if (known !== undefined) res.status(ERROR_STATUS[known.code]).json({ error: known.message, code: known.code })
    else res.status(ERROR_STATUS.INTERNAL).json({ error: 'internal error', code: 'INTERNAL' })
  })
  return app
}
