import { AdapterError } from '../errors'
import { sendAnswer } from './door-answer'
import { eventsOf } from './door-events'
import type { ServedWorkspace } from './door-policy'
import type { Door, DoorDeps } from './door-request'
import { receiveBody } from './read-body'
import { readWebhookBody, webhookCredentials } from './webhook-auth'

/**
 * `POST /webhook/:workspace`: Segment's webhook destinations. What a request can be refused
 * for without its body is checked before the body is read (up to maxBodyBytes): a request
 * without credentials costs us only its headers. An unknown workspace is answered as a
 * known one without the right credentials.
 */
export function webhookDoor(deps: DoorDeps): Door {
  const { config, registry } = deps
  return async ({ req, res, param, log, refused }) => {
    const known = registry.get(param)
    const credentials = webhookCredentials(known, req.headers.authorization, headerOf(req.headers['x-signature']))
    const body = await receiveBody(req, config.maxBodyBytes)
    const deadline = deps.now() + deps.budgetMs
    const decoded = await readWebhookBody(body, credentials, known, config)
    // Only an unknown workspace's signature can never match: past this line the workspace exists.
    const workspace = known as ServedWorkspace
    refused.workspace = workspace.name
    const values = Array.isArray(decoded.json) ? decoded.json : [decoded.json]
    if (values.length === 0) throw new AdapterError('INPUT_INVALID', 'the body is an empty array')
    if (values.length > config.maxBatchEvents) throw new AdapterError('BODY_TOO_LARGE', `the body has ${values.length} events; at most ${config.maxBatchEvents}`)
    sendAnswer(res, await deps.handleEvents(eventsOf(values, decoded.raw, 'body', config.maxEventBytes), workspace, 'webhook', deadline, log))
  }
}

/** A header as express's req.header() gave it: one value (node joins repeats of most headers with ", "). */
function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}
