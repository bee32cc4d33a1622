import express, { type NextFunction, type Request, type Response } from 'express'
import type { ServiceConfig } from '../config'
import { AdapterError } from '../errors'
import { describeJsonError } from '../segment/describe-json-error'
import { inspectJson } from './inspect-json'

/** What a door gets from a request body: the raw bytes (for signatures) and the decoded JSON. */
export type DecodedBody = { raw: Buffer; json: unknown }

/**
 * The body middleware of the doors: JSON content types only, gzip/deflate inflated
 * with the size limit applied after inflation (so a gzip bomb stops at the limit).
 */
export function rawJsonBody(config: Pick<ServiceConfig, 'maxBodyBytes'>) {
  const raw = express.raw({ type: () => true, limit: config.maxBodyBytes, inflate: true })
  return (req: Request, res: Response, next: NextFunction) => {
    const type = req.headers['content-type']
    if (type === undefined || !/^application\/(.+\+)?json\b/i.test(type)) {
      next(new AdapterError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 60))}`))
      return
    }
    raw(req, res, next)
  }
}

/** Decodes a request's JSON once, within our depth and key limits. */
export function decodeBody(req: Request, config: Pick<ServiceConfig, 'maxJsonDepth' | 'maxJsonKeys'>): DecodedBody {
  const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
  if (raw.length === 0) throw new AdapterError('INPUT_INVALID', 'the request body is empty')
  let json: unknown
  try {
    json = JSON.parse(raw.toString('utf8'))
  } catch (error) {
    throw new AdapterError('INPUT_INVALID', `the body is not valid JSON: ${describeJsonError(error as Error)}`)
  }
  const problem = inspectJson(json, { maxDepth: config.maxJsonDepth, maxKeys: config.maxJsonKeys })
  if (problem !== undefined) throw new AdapterError('INPUT_INVALID', problem)
  return { raw, json }
}

/** Our error for what went wrong before a door ran: body-parser's (too large, bad encoding, aborted) or our own. */
export function requestError(error: unknown): AdapterError | undefined {
  if (error instanceof AdapterError) return error
  const e = error as { type?: string; status?: number; limit?: number; message?: string }
  switch (e.type) {
    case 'entity.too.large':
      return new AdapterError('BODY_TOO_LARGE', `the body is larger than ${e.limit} bytes (after decompression)`)
    case 'encoding.unsupported':
      return new AdapterError('UNSUPPORTED_MEDIA_TYPE', e.message ?? 'unsupported Content-Encoding')
    case 'request.aborted':
      return new AdapterError('INPUT_INVALID', 'the request was aborted')
    case 'request.size.invalid':
      return new AdapterError('INPUT_INVALID', 'the body is shorter or longer than its Content-Length')
    default:
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new AdapterError('INPUT_INVALID', e.message ?? 'bad request')
      return undefined
  }
}
