import { STATUS_CODES } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Request, RequestHandler, Response } from 'express'
import type { z } from 'zod'
import { AccountBatchRequest, ProfileBatchRequest } from '../koala/request-schema'
import { describeIssues, issueMessages } from './describe-issues'
import type { FaultHit, FaultQueue, SimulatorEndpoint } from './fault-queue'
import { readJsonBody } from './read-json-body'
import { flatHeaders, type RequestFlag, type RequestLog } from './request-log'

/** What the ingestion routes share with the rest of the simulator. */
export type IngestState = {
  faults: FaultQueue
  log: RequestLog
  /** Undefined: every key is accepted. */
  keys: ReadonlySet<string> | undefined
  /** Aborted by close(), so pending latency faults do not hold the process open. */
  closing: AbortSignal
}

const schemas: Record<SimulatorEndpoint, z.ZodType> = {
  batch: ProfileBatchRequest,
  'accounts/batch': AccountBatchRequest
}

/**
 * Koala's `POST /web/projects/:key/<endpoint>`. Order: a fault is taken on arrival
 * (FIFO), the body is read, latency waited, then drop or fault status, then the key,
 * then the body; a fault therefore wins over a bad key or body, as a proxy would.
 */
export function ingestHandler(endpoint: SimulatorEndpoint, state: IngestState): RequestHandler {
  return async (req: Request, res: Response) => {
    const fault = state.faults.take(endpoint)
    const problem = await readJsonBody(req, res)
    if (problem?.aborted) return
    if (fault?.latencyMs) {
      try {
        await sleep(fault.latencyMs, undefined, { signal: state.closing })
      } catch {
        return // the simulator is closing: its sockets are gone
      }
    }
    if (fault?.drop) {
      req.socket.destroy()
      return
    }
    if (fault?.status !== undefined) return sendFault(res, fault, fault.status)

    const key = String(req.params.key)
    if (state.keys !== undefined && !state.keys.has(key)) {
      res.status(401).json({ error: 'invalid public api key', code: 'unauthorized' })
      return
    }
    if (problem) {
      res.status(problem.status).json({ error: problem.error, code: problem.code })
      return
    }
    if (req.body === undefined) {
      res.status(400).json({ error: 'expected a JSON body (Content-Type: application/json)', code: 'invalid_payload' })
      return
    }
    const result = schemas[endpoint].safeParse(req.body, { error: issueMessages })
    if (!result.success) {
      res.status(400).json({ error: describeIssues(result.error), code: 'invalid_payload' })
      return
    }

    state.log.record(key, {
      method: req.method,
      path: req.path,
      headers: flatHeaders(req.headers),
      body: req.body,
      flags: flagsOf(req)
    })
    res.json({ ok: true })
  }
}

function flagsOf(req: Request): RequestFlag[] {
  const flags: RequestFlag[] = []
  if (!req.headers['user-agent']) flags.push('missing_user_agent')
  if (req.socket.destroyed) flags.push('client_disconnected')
  return flags
}

function sendFault(res: Response, fault: FaultHit, status: number): void {
  res.status(status)
  if (fault.retryAfter !== undefined) res.set('Retry-After', String(fault.retryAfter))
  if (typeof fault.body === 'string') {
    // Verbatim: lets a test play a proxy's HTML error page, which clients must survive too.
    res.type('text/plain').send(fault.body)
    return
  }
  res.json(fault.body ?? { error: `simulated fault: ${status} ${STATUS_CODES[status] ?? ''}`.trim(), code: 'simulated_fault' })
}
