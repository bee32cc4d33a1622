import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'

/**
 * An incoming id worth keeping: short, and of characters no log or header can be
 * confused by. No `@`, so a client cannot make us log an email under this name.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** The request's id: its `X-Request-Id` when that is a short safe token (a proxy's), else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID()
}

/** A child of `logger` whose every line carries the request's id, which the answer echoes in `X-Request-Id`. */
export function requestLogger(logger: Logger, req: IncomingMessage, res: ServerResponse): Logger {
  const reqId = requestIdOf(req)
  res.setHeader('X-Request-Id', reqId)
  return logger.child({ reqId })
}
