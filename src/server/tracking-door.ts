import { AdapterError } from '../errors'
import { SEGMENT_EVENT_TYPES } from '../segment/event-schema'
import { unwrapEnvelope } from '../segment/read-events'
import { sendAnswer } from './door-answer'
import { eventsOf } from './door-events'
import type { ServedWorkspace } from './door-policy'
import type { Door, DoorDeps } from './door-request'
import { inflateBody, parseJson, receiveBody } from './read-body'
import { WriteKeyIndex } from './write-key-index'
import { writeKeyOfBody, writeKeyOfHeader } from './write-key'

/**
 * How much of a Tracking API body without a write key in its headers is inflated to look
 * for one in the body: Segment's limit for a batch (500 KB; analytics-node 2.x, the one
 * that sends the key in the body, keeps to it), with room to spare.
 */
const UNAUTHENTICATED_TRACKING_BYTES = 512 * 1024

const TRACKING_CALLS = new Set<string>(SEGMENT_EVENT_TYPES)

/**
 * `POST /v1/:call`: Segment's HTTP Tracking API, as @segment/analytics-node sends it. A write
 * key in the Authorization header is checked before the body is read; one in the body is
 * found by a scan of its top-level keys, and the body parsed only after.
 */
export function trackingDoor(deps: DoorDeps): Door {
  const { config } = deps
  const writeKeys = new WriteKeyIndex(deps.registry)
  const workspaceOfKey = (writeKey: string | undefined): ServedWorkspace => {
    if (writeKey === undefined) throw new AdapterError('UNAUTHORIZED', 'a write key is required: Basic auth "<writeKey>:" or "writeKey" in the body')
    const workspace = writeKeys.lookup(writeKey)
    if (workspace === undefined) throw new AdapterError('UNAUTHORIZED', 'unknown write key')
    return workspace
  }
  return async ({ req, res, param: call, log, refused }) => {
    if (call !== 'batch' && !TRACKING_CALLS.has(call)) throw new AdapterError('NOT_FOUND', `unknown Tracking API call /v1/${call.slice(0, 32)}`)
    const headerKey = writeKeyOfHeader(req.headers.authorization)
    const known = headerKey === undefined ? undefined : workspaceOfKey(headerKey)
    const body = await receiveBody(req, config.maxBodyBytes)
    const deadline = deps.now() + deps.budgetMs
    // A stranger's body is inflated and scanned for its writeKey no further than Segment's batch limit.
    const raw = await inflateBody(body, known === undefined ? Math.min(config.maxBodyBytes, UNAUTHENTICATED_TRACKING_BYTES) : config.maxBodyBytes).catch((error: unknown) => {
      if (known !== undefined || !(error instanceof AdapterError) || error.code !== 'BODY_TOO_LARGE') throw error
      throw new AdapterError('BODY_TOO_LARGE', `a body over ${UNAUTHENTICATED_TRACKING_BYTES} bytes needs its write key in the Authorization header (Basic "<writeKey>:"), not in the body`)
    })
    const workspace = known ?? workspaceOfKey(writeKeyOfBody(raw))
    refused.workspace = workspace.name
    const json = parseJson(raw, config)
    const values = call === 'batch' ? batchOf(json) : [withType(json, call)]
    if (values.length > config.maxBatchEvents) throw new AdapterError('BODY_TOO_LARGE', `the batch has ${values.length} events; at most ${config.maxBatchEvents}`)
    const answer = await deps.handleEvents(eventsOf(values, raw, call === 'batch' ? 'batch' : 'body', config.maxEventBytes), workspace, 'tracking', deadline, log)
    sendAnswer(res, answer.status === 200 ? { ...answer, body: { success: true, ...answer.body } } : answer)
  }
}

function batchOf(json: unknown): unknown[] {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { batch?: unknown }).batch)) {
    throw new AdapterError('INPUT_INVALID', '/v1/batch needs a body {"batch": [...events]}')
  }
  return unwrapEnvelope(json as { batch: unknown[] })
}

/** `/v1/track` and friends imply the call's type, as Segment's API does. */
function withType(json: unknown, call: string): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new AdapterError('INPUT_INVALID', `/v1/${call} needs one event object`)
  const event = json as Record<string, unknown>
  return event.type === undefined ? { ...event, type: call } : event
}
