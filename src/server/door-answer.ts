import type { ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { DoorAnswer } from './deliver-events'
import { ERROR_STATUS } from './error-status'
import { requestError } from './read-body'

/** What a refusal's log line may say of its request: never its path, which may hold a mistyped key. */
export type RefusedRequest = { method: string | undefined; door: string; workspace: string | undefined }

/** Writes the answer in one go: express's res.json() costs several times this on the door's hot path. */
export function sendAnswer(res: ServerResponse, answer: DoorAnswer): void {
  const text = JSON.stringify(answer.body)
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }
  if (answer.retryAfterSec !== undefined) headers['Retry-After'] = String(answer.retryAfterSec)
  res.writeHead(answer.status, headers).end(text)
}

/**
 * Answers what a request failed with: one of ours (or the body reader's) with its status
 * and message, logged as a refusal; anything else 500 (Segment retries: an event we failed
 * on is never acknowledged), logged as unexpected without its stack.
 */
export function answerError(res: ServerResponse, error: unknown, request: RefusedRequest, log: Logger): void {
  const known = requestError(error)
  if (known !== undefined) {
    const status = ERROR_STATUS[known.code]
    // Refusals are logged too: a flood of bad signatures must leave a trace. Our messages never hold secrets.
    log.info({ method: request.method, door: request.door, workspace: request.workspace, status, code: known.code }, 'refused')
    sendAnswer(res, { status, body: { error: known.message, code: known.code } })
    return
  }
  log.error({ err: errorSummary(error) }, 'unexpected error')
  sendAnswer(res, { status: ERROR_STATUS.INTERNAL, body: { error: 'internal error; Segment will retry', code: 'INTERNAL' } })
}

/** What a log line says of an error we did not expect: its name and message, never its stack or fields (a client error's URL holds the Koala key). */
export function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: typeof error, message: String(error) }
}
