import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
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

/** One ingestion request, as routed: the endpoint, the key decoded from the path, and the path without its query. */
export type IngestTarget = { endpoint: SimulatorEndpoint; key: string; path: string }

const schemas: Record<SimulatorEndpoint, z.ZodType> = {
  batch: ProfileBatchRequest,
  'accounts/batch': AccountBatchRequest
}

const INGEST_PATH = /^\/web\/projects\/([^/]+)\/(batch|accounts\/batch)\/?$/

/** `POST /web/projects/:key/batch` or `/accounts/batch`, or undefined for any other request. */
export function ingestTarget(method: string | undefined, url: string | undefined): IngestTarget | undefined {
  if (method !== 'POST' || url === undefined) return undefined
  const query = url.indexOf('?')
  const path = query < 0 ? url : url.slice(0, query)
  const match = INGEST_PATH.exec(path)
  if (match === null) return undefined
  let key: string
  try {
    key = decodeURIComponent(match[1])
  } catch {
    return undefined // express would not route it either: the 404 answers it
  }
  return { endpoint: match[2] as SimulatorEndpoint, key, path }
}

/**
 * Koala's `POST /web/projects/:key/<endpoint>`, on plain node:http (express's
 * routing and body parsing cost more than the checks themselves). Order: a fault is
 * taken on arrival (FIFO), the body is read, latency waited, then drop or fault
 * status, then the key, then the body; a fault therefore wins over a bad key or
 * body, as a proxy would.
 */
export async function handleIngest(target: IngestTarget, req: IncomingMessage, res: ServerResponse, state: IngestState): Promise<void> {
  const fault = state.faults.take(target.endpoint)
  const read = await readJsonBody(req)
  if (read.problem?.aborted) return
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

  if (state.keys !== undefined && !state.keys.has(target.key)) return sendJson(res, 401, { error: 'invalid public api key', code: 'unauthorized' })
  if (read.problem) return sendJson(res, read.problem.status, { error: read.problem.error, code: read.problem.code })
  if (read.json === undefined) return sendJson(res, 400, { error: 'expected a JSON body (Content-Type: application/json)', code: 'invalid_payload' })
  const result = schemas[target.endpoint].safeParse(read.json, { error: issueMessages })
  if (!result.success) return sendJson(res, 400, { error: describeIssues(result.error), code: 'invalid_payload' })

  state.log.record({
    method: 'POST',
    path: target.path,
    key: target.key,
    headers: flatHeaders(req.headers),
    body: read.json,
    flags: flagsOf(req)
  })
  sendJson(res, 200, { ok: true })
}

/** Answers JSON as express's `res.json` does, same headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body))
}

function send(res: ServerResponse, status: number, type: string, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { ...extra, 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function flagsOf(req: IncomingMessage): RequestFlag[] {
  const flags: RequestFlag[] = []
  if (!req.headers['user-agent']) flags.push('missing_user_agent')
  if (req.socket.destroyed) flags.push('client_disconnected')
  return flags
}

function sendFault(res: ServerResponse, fault: FaultHit, status: number): void {
  const extra: Record<string, string> = fault.retryAfter === undefined ? {} : { 'Retry-After': String(fault.retryAfter) }
  // A string body goes out verbatim: lets a test play a proxy's HTML error page, which clients must survive too.
  if (typeof fault.body === 'string') return send(res, status, 'text/plain; charset=utf-8', fault.body, extra)
  const body = fault.body ?? { error: `simulated fault: ${status} ${STATUS_CODES[status] ?? ''}`.trim(), code: 'simulated_fault' }
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), extra)
}
