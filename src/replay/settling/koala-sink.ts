import { whoKey } from '../../koala/batcher'
import type { DeliveryResult, KoalaClient, KoalaTarget } from '../../koala/koala-client'
import type { OutboundRequest, RenderedRequest } from '../../koala/request-schema'
import type { RateLimit } from './rate-limit'
import type { ReplaySink, SinkOutcome } from './replay-sink'

export type KoalaSinkOptions = {
  /** Requests in flight at once. */
  concurrency: number
  /** Each request, retries included, must be done within this many ms of its start. */
  budgetMs: number
  rate?: RateLimit
  now?: () => number
}

type Job = { request: OutboundRequest; who: string; settled: (outcome: SinkOutcome) => void }

/** Koala answers these for a wrong or revoked key: every other request would get the same. */
const KEY_REFUSED = new Set([401, 403])

/**
 * Delivers requests with at most `concurrency` in flight, each through the shared
 * KoalaClient (its retries, Retry-After and a per-request deadline). One person's (or
 * account's) requests go one after the other, in the order they were closed, so a
 * retried request is never overtaken by that person's next one.
 */
export function createKoalaSink(client: KoalaClient, target: KoalaTarget, options: KoalaSinkOptions): ReplaySink {
  const now = options.now ?? Date.now
  /** Requests ready to start, oldest first. */
  const queue: Job[] = []
  /** People with a request queued or in flight; their next requests wait here, in order. */
  const waiting = new Map<string, Job[]>()
  let running = 0
  let notStarted = 0
  let onIdle: (() => void) | undefined

  const pump = (): void => {
    while (running < options.concurrency && queue.length > 0) {
      const job = queue.shift()!
      running++
      notStarted--
      void deliver(job)
    }
    if (running === 0 && queue.length === 0 && onIdle !== undefined) {
      const resolve = onIdle
      onIdle = undefined
      resolve()
    }
  }

  const deliver = async (job: Job): Promise<void> => {
    let outcome: SinkOutcome
    try {
      await options.rate?.take()
      outcome = outcomeOf(await client.send(job.request, target, { deadline: now() + options.budgetMs }), job.request.endpoint, target.publicApiKey)
    } catch (error) {
      // send() does not throw for HTTP or network failures; anything else is still a failed request, not a lost one.
      outcome = { ok: false, status: 'error', reason: { endpoint: job.request.endpoint, error: (error as Error).message } }
    }
    running--
    const next = waiting.get(job.who)
    if (next !== undefined && next.length > 0) queue.push(next.shift()!)
    else waiting.delete(job.who)
    job.settled(outcome)
    pump()
  }

  return {
    canRefuse: true,
    submit(request, settled) {
      // The batcher's own key (read back from an object body): its order per person is what the sink keeps.
      const job = { request, who: typeof request.body === 'string' ? (request as RenderedRequest).who : whoKey(request.endpoint, request.body), settled }
      notStarted++
      const line = waiting.get(job.who)
      if (line !== undefined) line.push(job)
      else {
        waiting.set(job.who, [])
        queue.push(job)
      }
      pump()
    },
    backlog: () => notStarted,
    ready: () => undefined,
    close() {
      if (running === 0 && queue.length === 0) return Promise.resolve()
      return new Promise((resolve) => (onIdle = resolve))
    }
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
