import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'

/** Koala's own limit is undocumented; generous, so the simulator never fails a benchmark on size. */
export const BODY_LIMIT = '10mb'

const parseJson = express.json({ limit: BODY_LIMIT })

/** Why a body could not be read, already shaped as the simulator's answer. */
export type BodyProblem = { status: number; code: string; error: string; aborted: boolean }

/**
 * Reads a JSON body into `req.body`, resolving with the problem instead of
 * passing it to express, so the caller decides which check answers first.
 */
export function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<BodyProblem | undefined> {
  return new Promise((resolve) => {
    parseJson(req, res, (err?: unknown) => resolve(err === undefined ? undefined : bodyProblem(err)))
  })
}

/** Maps body-parser's error `type`s to answers (anything else is a simulator bug: 500). */
export function bodyProblem(err: unknown): BodyProblem {
  const { type, status, message } = err as { type?: string; status?: number; message?: string }
  const aborted = type === 'request.aborted'
  if (type === 'entity.parse.failed') return { status: 400, code: 'invalid_json', error: `malformed JSON: ${message}`, aborted }
  if (type === 'entity.too.large') {
    return { status: 413, code: 'payload_too_large', error: `body larger than ${BODY_LIMIT}`, aborted }
  }
  if (type === undefined) return { status: 500, code: 'internal', error: message ?? 'simulator bug', aborted }
  return { status: status ?? 400, code: 'invalid_body', error: message ?? 'unreadable body', aborted }
}
