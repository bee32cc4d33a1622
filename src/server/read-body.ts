import type { IncomingMessage } from 'node:http'
import getRawBody from 'raw-body'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import type { ServiceConfig } from '../config'
import { AdapterError } from '../errors'
import { describeJsonError } from '../json/describe-json-error'
import { findJsonLimitProblem } from '../json/json-limits'

/**
 * The Content-Encodings the doors inflate. Not brotli: Segment and analytics-node never
 * send it, and its decoder works ~50 ms on a 27-byte bomb before it yields a first byte,
 * which a stranger could make us pay before we know who sent it.
 */
const INFLATERS = {
  gzip: { whole: promisify(zlib.gunzip), stream: () => zlib.createGunzip() },
  deflate: { whole: promisify(zlib.inflate), stream: () => zlib.createInflate() }
} as const
type Encoding = keyof typeof INFLATERS | 'identity'

/**
 * A request body as it arrived: its bytes, still compressed when `encoding` says so.
 * Nothing has inflated or parsed it: a door authenticates first, then pays for those.
 */
export type ReceivedBody = { bytes: Buffer; encoding: Encoding }

/** What a door gets from a request body: the raw bytes (for signatures) and the decoded JSON. */
export type DecodedBody = { raw: Buffer; json: unknown }

/**
 * Reads a door's request body: JSON in UTF-8 only, as it arrived (up to `maxBodyBytes`,
 * refused before reading when its Content-Length says more), without inflating it; the
 * door inflates with `inflateBody`, which applies the same limit after inflation (so a
 * gzip bomb stops at the limit). Rejects as `requestError` reads.
 */
export function receiveBody(req: IncomingMessage, maxBodyBytes: number): Promise<ReceivedBody> {
  const problem = contentTypeProblem(req.headers['content-type'])
  if (problem !== undefined) return Promise.reject(new AdapterError('UNSUPPORTED_MEDIA_TYPE', problem))
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (encoding !== 'identity' && !(encoding in INFLATERS)) {
    return Promise.reject(new AdapterError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${JSON.stringify(encoding.slice(0, 20))} is not supported; send gzip, deflate or none`))
  }
  return getRawBody(req, { length: req.headers['content-length'], limit: maxBodyBytes }).then(
    (bytes) => ({ bytes, encoding: encoding as Encoding }),
    (error: unknown) => {
      // raw-body pauses a body it gave up on midway; the rest is read off (and dropped), or the
      // connection's next request would never be read and the client would see a reset, not our answer.
      if (!req.complete) req.resume()
      throw error
    }
  )
}

/** Why a Content-Type is refused: JSON (`application/json` or `application/*+json`) in UTF-8 only. */
function contentTypeProblem(type: string | undefined): string | undefined {
  const [media, ...parameters] = (type ?? '').split(';')
  if (!/^application\/([a-z0-9!#$&^_.-]+\+)?json$/i.test(media.trim())) {
    return `Content-Type must be application/json, got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 60))}`
  }
  for (const parameter of parameters) {
    const [name, value = ''] = parameter.split('=')
    const charset = value.trim().replace(/^"(.*)"$/, '$1').toLowerCase()
    if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      return `JSON bodies must be UTF-8, got charset ${JSON.stringify(charset.slice(0, 20))}`
    }
  }
  return undefined
}

/** The whole body, inflated; BODY_TOO_LARGE once it passes `maxBodyBytes`. */
export async function inflateBody(body: ReceivedBody, maxBodyBytes: number): Promise<Buffer> {
  if (body.encoding === 'identity') {
    if (body.bytes.length > maxBodyBytes) throw inflateError({ code: 'ERR_BUFFER_TOO_LARGE' }, maxBodyBytes)
    return body.bytes
  }
  try {
    return await INFLATERS[body.encoding].whole(body.bytes, { maxOutputLength: maxBodyBytes })
  } catch (error) {
    throw inflateError(error, maxBodyBytes)
  }
}

/**
 * The start of the inflated body, inflating until `enough` says so (checked each
 * time the output doubles, so scanning costs at most twice the bytes inflated), or
 * the whole body. Stops at `maxBodyBytes` like `inflateBody`.
 */
export async function inflatePrefix(body: ReceivedBody, maxBodyBytes: number, enough: (prefix: Buffer) => boolean): Promise<Buffer> {
  if (body.encoding === 'identity') {
    if (body.bytes.length > maxBodyBytes) throw inflateError({ code: 'ERR_BUFFER_TOO_LARGE' }, maxBodyBytes)
    return body.bytes
  }
  const inflater = INFLATERS[body.encoding].stream()
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let scannedAt = 0
    let settled = false
    const settle = (error: unknown, prefix?: Buffer) => {
      if (settled) return
      settled = true
      inflater.destroy()
      if (prefix !== undefined) resolve(prefix)
      else reject(error)
    }
    inflater.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      if (size > maxBodyBytes) return settle(inflateError({ code: 'ERR_BUFFER_TOO_LARGE' }, maxBodyBytes))
      if (size < scannedAt * 2) return
      scannedAt = size
      const prefix = Buffer.concat(chunks)
      if (enough(prefix)) settle(undefined, prefix)
    })
    inflater.on('end', () => settle(undefined, Buffer.concat(chunks)))
    inflater.on('error', (error) => settle(inflateError(error, maxBodyBytes)))
    inflater.end(body.bytes)
  })
}

function inflateError(error: unknown, maxBodyBytes: number): AdapterError {
  if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
    return new AdapterError('BODY_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes (after decompression)`)
  }
  return new AdapterError('INPUT_INVALID', 'the body could not be decompressed: it is not what its Content-Encoding says')
}

/** Decodes JSON once, within our depth and key limits; errors never quote the body back. */
export function parseJson(raw: Buffer, config: Pick<ServiceConfig, 'maxJsonDepth' | 'maxJsonKeys'>, what = 'the body'): unknown {
  if (raw.length === 0) throw new AdapterError('INPUT_INVALID', `${what} is empty`)
  let json: unknown
  try {
    json = JSON.parse(raw.toString('utf8'))
  } catch (error) {
    throw new AdapterError('INPUT_INVALID', `${what} is not valid JSON: ${describeJsonError(error as Error)}`)
  }
  // Only the limit is named, never where: a pointer would quote the sender's keys back.
  const problem = findJsonLimitProblem(json, { maxDepth: config.maxJsonDepth, maxKeys: config.maxJsonKeys })
  if (problem?.kind === 'depth') throw new AdapterError('INPUT_INVALID', `JSON nested deeper than ${config.maxJsonDepth} levels`)
  if (problem?.kind === 'keys') throw new AdapterError('INPUT_INVALID', `JSON has more than ${config.maxJsonKeys} keys and elements`)
  return json
}

/** Our error for what went wrong before a door's own checks: raw-body's (too large, aborted, short) or our own. */
export function requestError(error: unknown): AdapterError | undefined {
  if (error instanceof AdapterError) return error
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { type?: string; status?: number; limit?: number; message?: string }
  switch (e.type) {
    case 'entity.too.large':
      return new AdapterError('BODY_TOO_LARGE', `the body is larger than ${e.limit} bytes`)
    case 'request.aborted':
      return new AdapterError('INPUT_INVALID', 'the request was aborted')
    case 'request.size.invalid':
      return new AdapterError('INPUT_INVALID', 'the body is shorter or longer than its Content-Length')
    default:
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new AdapterError('INPUT_INVALID', e.message ?? 'bad request')
      return undefined
  }
}
