import type { DeliveryResult } from '../koala/koala-client'
import { koalaErrorSummary } from '../koala/koala-error-summary'
import { refusesTheEvents } from '../koala/retry-policy'

/**
 * What the deliverer does with a lease's entries once Koala answered:
 * - `ack`: Koala took them;
 * - `retry`: Koala was unavailable (408, 429, 5xx, network, after the client's own retries): later, with backoff;
 * - `dead`: Koala refused the events for good (400, 413, 422 and any other 4xx not below): dead letters, with its answer;
 * - `pause`: Koala refused our key (401, 403) or our URL (404): the events are fine, so the
 *   workspace waits until its configuration works again; nothing is dead-lettered.
 */
export type Settlement =
  | { action: 'ack' }
  | { action: 'retry'; reason: string; retryAfterMs?: number }
  | { action: 'dead'; reason: string }
  | { action: 'pause'; status: number; reason: string }

/**
 * 404 pauses as 401/403 do: Koala answers it for a wrong base URL or project key, which every
 * request of the workspace would meet; dead-lettering would move the whole workspace's queue
 * to the dead letters for a configuration mistake (direct mode answers it KOALA_MISCONFIGURED too).
 */
const PAUSING_STATUSES: ReadonlySet<number> = new Set([401, 403, 404])

/** The settlement of one Koala answer; reasons hold Koala's status, short code and masked message, never its body. */
export function settlementOf(result: DeliveryResult): Settlement {
  if (result.ok) return { action: 'ack' }
  if (result.kind === 'unavailable') {
    const settlement: Settlement = { action: 'retry', reason: result.message }
    if (result.retryAfterMs !== undefined) settlement.retryAfterMs = result.retryAfterMs
    return settlement
  }
  const summary = koalaErrorSummary(result.status, result.error)
  const reason = `Koala ${summary.status}${summary.code === undefined ? '' : ` ${summary.code}`}${summary.error === undefined ? '' : `: ${summary.error}`}`
  if (PAUSING_STATUSES.has(result.status)) return { action: 'pause', status: result.status, reason }
  // Other 4xx (405, 409, 410, ...) are permanent too: nothing a resend changes, so they are dead letters like Koala's verdicts.
  return { action: 'dead', reason: refusesTheEvents(result.status) ? reason : `${reason} (refused for good)` }
}
