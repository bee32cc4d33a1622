import type { IncomingMessage } from 'node:http'

/** Koala's own limit is undocumented; generous, so the simulator never fails a benchmark on size. */
export const BODY_LIMIT_BYTES = 10 * 1024 * 1024
/** The same limit in body-parser's notation, for the control routes. */
export const BODY_LIMIT = '10mb'

/** Why a body could not be read, already shaped as the simulator's answer. */
export type BodyProblem = { status: number; code: string; error: string; aborted: boolean }

/** What reading an ingestion body gave: its JSON, the problem, or neither (a body not declared as JSON). */
export type BodyRead = { json?: unknown; problem?: BodyProblem }

// What express.json() took before this reader replaced it: application/json only, UTF-8 only.
const JSON_TYPE = /^application\/json\s*(?:;|$)/i
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i
// express.json()'s strict mode: a JSON body must be an object or an array.
const STRICT_START = /^[\s]*[[{]/

/**
 * Reads and decodes an ingestion request's JSON body on plain node:http: the hot
 * path of every benchmark, where express's body parser cost more than the rest of
 * the simulator. Always reads the body to its end, so the connection stays usable.
 * No Content-Encoding is decoded: Koala's clients (ours included) send plain JSON.
 */
export function readJsonBody(req: IncomingMessage): Promise<BodyRead> {
  return new Promise((resolve) => {
    const type = req.headers['content-type']
    const encoding = req.headers['content-encoding']
    const isJson = type !== undefined && JSON_TYPE.test(type)
    const chunks: Buffer[] = []
    let length = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      length += chunk.length
      if (length > BODY_LIMIT_BYTES) tooLarge = true
      else if (isJson) chunks.push(chunk)
    })
    req.on('error', () => resolve({ problem: { status: 400, code: 'invalid_body', error: 'the request was aborted', aborted: true } }))
    req.on('end', () => {
      if (tooLarge) return resolve({ problem: { status: 413, code: 'payload_too_large', error: `body larger than ${BODY_LIMIT}`, aborted: false } })
      if (!isJson) return resolve({})
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        return resolve({ problem: { status: 415, code: 'invalid_body', error: `unsupported content encoding "${encoding.slice(0, 40)}"`, aborted: false } })
      }
      const charset = CHARSET.exec(type!)?.[1]?.toLowerCase()
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
        return resolve({ problem: { status: 415, code: 'invalid_body', error: `unsupported charset "${charset.slice(0, 40).toUpperCase()}"`, aborted: false } })
      }
      // An empty JSON body reads as {}, which the schema then refuses, as express.json() had it.
      if (length === 0) return resolve({ json: {} })
      const text = Buffer.concat(chunks, length).toString('utf8')
      if (!STRICT_START.test(text)) {
        return resolve({ problem: { status: 400, code: 'invalid_json', error: 'malformed JSON: the body must be a JSON object or array', aborted: false } })
      }
      try {
        resolve({ json: JSON.parse(text) })
      } catch (error) {
        resolve({ problem: { status: 400, code: 'invalid_json', error: `malformed JSON: ${(error as Error).message}`, aborted: false } })
      }
    })
  })
}

/** Maps body-parser's error `type`s (the control routes') to answers; anything else is a simulator bug: 500. */
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
