import type { DeliveryPolicy } from '../../config'
import type { DeliveryResult, KoalaClient, KoalaTarget } from '../../koala/koala-client'
import { whoKeyOfRequest } from '../../koala/who'
import { DeliveryQueue } from '../../pipeline/delivery-queue'
import type { RateLimit } from './rate-limit'
import type { ReplaySink, SinkOutcome } from './replay-sink'

/** The replay's delivery policy (requests in flight, each request's budget from its start), and an optional rate. */
export type KoalaSinkOptions = Pick<DeliveryPolicy, 'concurrency' | 'budgetMs'> & {
  rate?: RateLimit
  now?: () => number
}

/** Koala answers these for a wrong or revoked key: every other request would get the same. */
const KEY_REFUSED = new Set([401, 403])

/**
 * Delivers requests through the pipeline's DeliveryQueue: at most `concurrency` in
 * flight, each through the shared KoalaClient (its retries, Retry-After and a
 * per-request deadline). One person's (or account's) requests go one after the other, in
 * the order they were closed, so a retried request is never overtaken by that person's next one.
 */
export function createKoalaSink(client: KoalaClient, target: KoalaTarget, options: KoalaSinkOptions): ReplaySink {
  const now = options.now ?? Date.now
  const queue = new DeliveryQueue(options.concurrency)
  return {
    canRefuse: true,
    submit(request, settled) {
      const send = async (): Promise<SinkOutcome> => {
        await options.rate?.take()
        return outcomeOf(await client.send(request, target, { deadline: now() + options.budgetMs }), request.endpoint, target.publicApiKey)
      }
      queue.submit(
        send,
        // send() does not throw for HTTP or network failures; anything else is still a failed request, not a lost one.
        (outcome) => settled(outcome.status === 'fulfilled' ? outcome.value : { ok: false, status: 'error', reason: { endpoint: request.endpoint, error: (outcome.reason as Error).message } }),
        whoKeyOfRequest(request)
      )
    },
    backlog: () => queue.backlog,
    ready: () => undefined,
    close: () => queue.idle()
  }
}

/**
 * Koala's `code` when it is a short token (`unauthorized`, `invalid_payload`): it is shown on the
 * terminal, so free text, which may echo the key or an email, is left out.
 */
export function safeKoalaCode(code: unknown, publicApiKey: string): string | undefined {
  if (typeof code !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,39}$/.test(code)) return undefined
  return publicApiKey !== '' && code.includes(publicApiKey) ? undefined : code
}

function outcomeOf(result: DeliveryResult, endpoint: string, publicApiKey: string): SinkOutcome {
  if (result.ok) return { ok: true, status: String(result.status) }
  if (result.kind === 'rejected') {
    const body = result.error as { error?: unknown; code?: unknown } | undefined
    // Koala's own words go to the dead-letter file only (with the events, which hold emails anyway); the terminal shows status and code.
    const error = typeof body?.error === 'string' ? body.error : body === undefined ? `HTTP ${result.status}` : JSON.stringify(body).slice(0, 500)
    const code = safeKoalaCode(body?.code, publicApiKey)
    const reason = { endpoint, status: result.status, ...(code !== undefined ? { code } : {}), error }
    return { ok: false, status: String(result.status), reason, stop: KEY_REFUSED.has(result.status) }
  }
  const reason = { endpoint, ...(result.status !== undefined ? { status: result.status } : {}), ...(result.code !== undefined ? { code: result.code } : {}), error: result.message }
  return { ok: false, status: result.status !== undefined ? String(result.status) : (result.code ?? 'unavailable'), reason }
}
