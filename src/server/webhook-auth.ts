import type { ServiceConfig } from '../config'
import { AdapterError } from '../errors'
import type { ServedWorkspace } from './door-policy'
import { firstElement } from './json-extent'
import { inflateBody, inflatePrefix, parseJson, type DecodedBody, type ReceivedBody } from './read-body'
import { bearerOf, verifyBearer, verifySignature } from './signature'

/** How a webhook request says who sent it, as far as its headers tell. */
export type WebhookCredentials = { kind: 'token' } | { kind: 'open' } | { kind: 'signature'; header: string }

// One answer for an unknown workspace, a closed door and a request without credentials,
// so that workspace names cannot be found by trying them.
const NO_CREDENTIALS = 'not authenticated: send X-Signature (HMAC-SHA1 of the body with the shared secret) or Authorization: Bearer <token>, to an existing workspace'
const WRONG_TOKEN = 'not authenticated: the Authorization bearer token is not one of the workspace\'s auth.tokens'
const WRONG_SIGNATURE = 'X-Signature does not match the body'
export const BATCH_NEEDS_TOKEN =
  'a batch (JSON array) is authenticated by X-Signature only as far as its first event, which is all Segment signs: ' +
  'add "auth": {"tokens": [{"env": "NAME"}]} to the workspace\'s mapping file, set NAME, and add the header ' +
  '"Authorization: Bearer <token>" to the Webhooks (Actions) destination\'s Headers field; ' +
  'or set "auth": {"trustSignedFirstEvent": true} to accept such batches (see README, Security)'

/**
 * Authenticates what a webhook's headers can: a bearer token (the whole request), an
 * open door (unsigned local mode), or an X-Signature left to check against the body.
 * Throws UNAUTHORIZED with the same answer for an unknown workspace as for a known one.
 */
export function webhookCredentials(workspace: ServedWorkspace | undefined, authorization: string | undefined, signature: string | undefined): WebhookCredentials {
  const token = bearerOf(authorization)
  if (token !== undefined) {
    if (verifyBearer(token, workspace?.doors.tokenDigests ?? [])) return { kind: 'token' }
    throw new AdapterError('UNAUTHORIZED', WRONG_TOKEN)
  }
  if (workspace?.doors.unsignedWebhooks === true) return { kind: 'open' }
  if (signature === undefined) throw new AdapterError('UNAUTHORIZED', NO_CREDENTIALS)
  if (!/^\s*[0-9a-fA-F]{40}\s*$/.test(signature)) throw new AdapterError('UNAUTHORIZED', WRONG_SIGNATURE)
  return { kind: 'signature', header: signature }
}

/**
 * The body of an authenticated webhook, inflated and parsed. A signed request is
 * parsed only after its signature matched: an object's over its raw bytes (inflated
 * no further than one event may be); a batch's over its first event, the only part
 * inflated, scanned and parsed before that (a batch of more events then needs
 * `trustSignedFirstEvent`: the rest is not signed).
 */
export async function readWebhookBody(
  body: ReceivedBody,
  credentials: WebhookCredentials,
  workspace: ServedWorkspace | undefined,
  config: Pick<ServiceConfig, 'maxBodyBytes' | 'maxEventBytes' | 'maxJsonDepth' | 'maxJsonKeys'>
): Promise<DecodedBody> {
  if (credentials.kind === 'signature') await checkSignature(body, credentials.header, workspace, config)
  const raw = await inflateBody(body, config.maxBodyBytes)
  return { raw, json: parseJson(raw, config) }
}

async function checkSignature(
  body: ReceivedBody,
  header: string,
  workspace: ServedWorkspace | undefined,
  config: Pick<ServiceConfig, 'maxBodyBytes' | 'maxEventBytes' | 'maxJsonDepth' | 'maxJsonKeys'>
): Promise<void> {
  const secrets = workspace?.secrets.sharedSecrets ?? []
  // Segment sends no event over maxEventBytes; the first one is looked for no further than that.
  const window = config.maxEventBytes + 1024
  const prefix = await inflatePrefix(body, config.maxBodyBytes, (bytes) => bytes.length > window || firstElement(bytes).kind !== 'incomplete')
  const first = firstElement(prefix.subarray(0, window))
  switch (first.kind) {
    case 'not-array': {
      // One event, which Segment keeps under maxEventBytes: a larger body is refused before it is inflated or hashed whole.
      const raw = await inflatePrefix(body, window, () => false).catch((error: unknown) => {
        if (error instanceof AdapterError && error.code === 'BODY_TOO_LARGE') throw new AdapterError('BODY_TOO_LARGE', `a single event is over ${config.maxEventBytes} bytes`)
        throw error
      })
      if (!verifySignature(raw, header, secrets)) throw new AdapterError('UNAUTHORIZED', WRONG_SIGNATURE)
      return
    }
    case 'empty-array':
      throw new AdapterError('INPUT_INVALID', 'the body is an empty array')
    case 'incomplete':
      if (prefix.length > window) throw new AdapterError('BODY_TOO_LARGE', `the first event of the batch is over ${config.maxEventBytes} bytes`)
      throw new AdapterError('INPUT_INVALID', prefix.length === 0 ? 'the request body is empty' : 'the body is not valid JSON: it ends too early')
    case 'element': {
      const event = parseJson(prefix.subarray(first.start, first.end), config, 'the first event')
      if (!verifySignature(Buffer.from(JSON.stringify(event)), header, secrets)) throw new AdapterError('UNAUTHORIZED', WRONG_SIGNATURE)
      if (first.more && workspace?.doors.trustSignedFirstEvent !== true) throw new AdapterError('UNAUTHORIZED', BATCH_NEEDS_TOKEN)
    }
  }
}
