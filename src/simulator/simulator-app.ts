import { setMaxListeners } from 'node:events'
import type { RequestListener } from 'node:http'
import express, { type ErrorRequestHandler } from 'express'
import { controlRoutes } from './control-routes'
import { faultsOrThrow, FaultQueue, type FaultInput } from './fault-queue'
import { handleIngest, ingestTarget, sendJson } from './ingest-route'
import { bodyProblem } from './read-json-body'
import { RequestLog } from './request-log'

export type SimulatorAppOptions = {
  /** When given, any other public API key gets a 401. */
  keys?: string[]
  /** Queued before the first request, as if posted to `/_sim/faults`. */
  faults?: FaultInput[]
  /** Keeps only the newest requests, so a long-running simulator's memory stays bounded. */
  maxRecords?: number
}

export type SimulatorApp = {
  /** The server's request listener: ingestion on plain node:http, everything else through express. */
  handler: RequestListener
  log: RequestLog
  faults: FaultQueue
  /** Ends pending latency faults; call before closing the server. */
  shutdown(): void
}

/** Builds the simulator's request handler and the state behind it (no server: see startSimulator). */
export function createSimulatorApp(options: SimulatorAppOptions = {}): SimulatorApp {
  const log = new RequestLog(options.maxRecords)
  const faults = new FaultQueue()
  if (options.faults !== undefined) faults.add(faultsOrThrow(options.faults))
  const closing = new AbortController()
  // Every request delayed by a latency fault listens on this one signal; hundreds at once are expected.
  setMaxListeners(0, closing.signal)
  const state = { faults, log, closing: closing.signal, keys: options.keys && new Set(options.keys) }

  const app = express()
  app.disable('x-powered-by')
  // ETags cost a hash per answer and no client of ours sends If-None-Match.
  app.set('etag', false)

  // Segment's own Koala destination checks keys this way; API.md lists it.
  app.get('/web/projects/:key/auth', (req, res) => {
    if (state.keys !== undefined && !state.keys.has(String(req.params.key))) {
      res.status(401).json({ error: 'invalid public api key', code: 'unauthorized' })
    } else res.json({ ok: true })
  })
  app.use(controlRoutes(log, faults))
  app.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}`, code: 'not_found' })
  })
  app.use(jsonErrors)

  const handler: RequestListener = (req, res) => {
    const target = ingestTarget(req.method, req.url)
    if (target === undefined) return void app(req, res)
    handleIngest(target, req, res, state).catch(() => sendJson(res, 500, { error: 'simulator bug', code: 'internal' }))
  }
  return { handler, log, faults, shutdown: () => closing.abort() }
}

// Express would answer errors with an HTML page; clients of a JSON API deserve JSON.
const jsonErrors: ErrorRequestHandler = (err, _req, res, _next) => {
  const problem = bodyProblem(err)
  if (problem.aborted || res.headersSent) return
  res.status(problem.status).json({ error: problem.error, code: problem.code })
}
