import type { Workspace } from '../workspace/resolve-workspace'
import { tokenDigest } from './token-digest'

/** Which of the server's doors a workspace opens, and how. */
export type DoorPolicy = {
  /** No secret and no token, and unsigned webhooks allowed (local mode, or ALLOW_UNSIGNED_WEBHOOKS): announced. */
  unsignedWebhooks: boolean
  /** SHA-256 digests of the webhook bearer tokens (`auth.tokens`; two during a rotation). */
  tokenDigests: Buffer[]
  /** `auth.trustSignedFirstEvent`: a batch authenticated by X-Signature alone (which covers only its first event) is accepted. */
  trustSignedFirstEvent: boolean
  /** Any write key selects this workspace (local mode only, announced at start-up). */
  acceptsAnyWriteKey: boolean
}

/** A workspace as the server serves it. With no secret its webhook door is closed, unless `doors.unsignedWebhooks`. */
export type ServedWorkspace = Workspace & { doors: DoorPolicy }

export type DoorSettings = {
  /** Local mode: doors without secrets open (the service is on loopback, and says so). */
  localMode: boolean
  /** Outside local mode, take unsigned webhooks for workspaces without a secret (announced). */
  allowUnsignedWebhooks: boolean
}

/** Decides a workspace's doors from its secrets and the settings; the notices say every door that is open unsigned or closed. */
export function admitWorkspace(workspace: Workspace, settings: DoorSettings): { workspace: ServedWorkspace; notices: string[] } {
  const { name, secrets } = workspace
  const auth = workspace.compiled.config.auth
  const { localMode } = settings
  const notices: string[] = []

  const tokenDigests = secrets.tokens.map(tokenDigest)
  const unsecured = secrets.sharedSecrets.length === 0 && tokenDigests.length === 0
  const unsignedWebhooks = unsecured && (localMode || settings.allowUnsignedWebhooks)
  if (unsecured) {
    const names = (auth?.sharedSecret === undefined ? [] : [auth.sharedSecret].flat()).map((ref) => ref.env).join(', ')
    const missing = `no webhook shared secret${names ? ` (${names} not set)` : ''}`
    if (localMode) notices.push(`${missing}: /webhook/${name} accepts UNSIGNED requests (insecure local mode)`)
    else if (unsignedWebhooks) notices.push(`${missing}: /webhook/${name} accepts UNSIGNED requests (ALLOW_UNSIGNED_WEBHOOKS is set)`)
    else notices.push(`${missing}: /webhook/${name} is closed (401) until a secret is set, or ALLOW_UNSIGNED_WEBHOOKS=true`)
  }
  const trustSignedFirstEvent = auth?.trustSignedFirstEvent ?? false
  if (trustSignedFirstEvent && secrets.sharedSecrets.length > 0) {
    notices.push('auth.trustSignedFirstEvent is set: whoever captured one signed event can append any events to a batch')
  }

  const acceptsAnyWriteKey = secrets.writeKeys.length === 0 && localMode && name === 'default'
  if (secrets.writeKeys.length === 0) {
    const names = (auth?.writeKeys ?? []).map((ref) => ref.env).join(', ')
    const missing = `no Segment write key${names ? ` (${names} not set)` : ''}`
    notices.push(
      acceptsAnyWriteKey
        ? `${missing}: the Tracking API takes ANY write key for this workspace (insecure local mode)`
        : `${missing}: the Tracking API door is closed for this workspace`
    )
  }
  return { workspace: { ...workspace, doors: { unsignedWebhooks, tokenDigests, trustSignedFirstEvent, acceptsAnyWriteKey } }, notices }
}

/** Which doors each workspace has open, signed or not, and which are closed: for the start-up log line. */
export function doorStates(workspaces: readonly ServedWorkspace[]): Array<{ workspace: string; webhook: string; trackingApi: string }> {
  return workspaces.map(({ name, secrets, doors }) => {
    const signed = secrets.sharedSecrets.length > 0 || doors.tokenDigests.length > 0
    return {
      workspace: name,
      webhook: signed ? 'signed' : doors.unsignedWebhooks ? 'unsigned' : 'closed',
      trackingApi: secrets.writeKeys.length > 0 ? 'write key' : doors.acceptsAnyWriteKey ? 'any write key' : 'closed'
    }
  })
}
