import http from 'node:http'
import https from 'node:https'
import axios, { type AxiosInstance } from 'axios'
import { version } from '../../package.json'
import type { ServiceConfig } from '../config'
import type { KoalaRequest } from './request-schema'
import { isRetryable, parseRetryAfter, retryDelay, retryPolicyFrom, type AttemptFailure } from './retry-policy'

/** Koala may drop requests without a User-Agent as bot traffic (koala/API.md). */
export const USER_AGENT = `segment-koala-adapter/${version}`

/**
 * A retry is worth starting only if it can get at least as long as the slowest attempt
 * of this delivery took, and never less than this: a fast 503 or a refused connection
 * says little about how long a good answer takes, and 100 ms covers Koala's usual reply.
 */
const MIN_ATTEMPT_MS = 100

export type KoalaTarget = { baseUrl: string; publicApiKey: string }

export type DeliveryResult =
  | { ok: true; status: number; attempts: number }
  /** Permanent: a 4xx other than 408/429; Koala's parsed error body in `error`. */
  | { ok: false; kind: 'rejected'; status: number; error: unknown; attempts: number }
  /** Transient failures that outlasted the retries or the deadline, or failures no retry here can fix (ENOTFOUND, 501). */
  | { ok: false; kind: 'unavailable'; status?: number; code?: string; retryAfterMs?: number; attempts: number; message: string }

export interface KoalaClient {
  /** Delivers one request, retrying transient failures until `deadline` (epoch ms) or the policy's limit. Never throws for HTTP or network failures. */
  send(request: KoalaRequest, target: KoalaTarget, options?: { deadline?: number }): Promise<DeliveryResult>
  /** Closes the pooled sockets. */
  close(): void
}

/** Sees every attempt and retry, e.g. for metrics and logs; gets no URL, key or body. */
export type DeliveryObserver = {
  onAttempt?(info: { endpoint: string; status?: number; code?: string; durationMs: number }): void
  onRetry?(info: { endpoint: string; delayMs: number; reason: string }): void
}

export type KoalaClientConfig = Pick<
  ServiceConfig,
  'koalaMaxSockets' | 'koalaTimeoutMs' | 'koalaMaxRetries' | 'koalaBackoffBaseMs' | 'koalaBackoffMaxMs'
>

export type KoalaClientDeps = { random?: () => number; sleep?: (ms: number) => Promise<void>; now?: () => number }

type Outcome = AttemptFailure & { data?: unknown }

/** The URL of one Koala endpoint; it holds the public key, so it never goes into a message. */
export function koalaUrl(target: KoalaTarget, endpoint: KoalaRequest['endpoint']): string {
  return `${target.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(target.publicApiKey)}/${endpoint}`
}

/** A client with one keep-alive socket pool shared by every request it sends. */
export function createKoalaClient(config: KoalaClientConfig, observer: DeliveryObserver = {}, deps: KoalaClientDeps = {}): KoalaClient {
  const { random = Math.random, sleep = realSleep, now = Date.now } = deps
  const policy = retryPolicyFrom(config)
  const attemptCapMs = config.koalaTimeoutMs > 0 ? config.koalaTimeoutMs : Infinity
  const agentOptions = { keepAlive: true, maxSockets: config.koalaMaxSockets }
  const httpAgent = new http.Agent(agentOptions)
  const httpsAgent = new https.Agent(agentOptions)
  const client = axios.create({
    httpAgent,
    httpsAgent,
    headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT },
    timeout: config.koalaTimeoutMs,
    // A redirect would carry the key to wherever it points; a 3xx is a misconfigured base URL.
    maxRedirects: 0,
    validateStatus: () => true,
    transitional: { clarifyTimeoutError: true },
    // We send a string we serialised and read the answer as text: axios's own JSON
    // transforms cost ~15% of an attempt, and only error bodies are ever read.
    transformRequest: [(data: unknown) => data],
    transformResponse: [(data: unknown) => data],
    responseType: 'text'
  })

  async function send(request: KoalaRequest, target: KoalaTarget, options: { deadline?: number } = {}): Promise<DeliveryResult> {
    const { endpoint } = request
    const url = koalaUrl(target, endpoint)
    // Serialised once: every retry sends the same bytes.
    const body = JSON.stringify(request.body)
    const deadline = options.deadline ?? Infinity
    let slowestMs = 0
    let last: Outcome = {}
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = Math.min(attemptCapMs, deadline - now())
      if (timeoutMs <= 0) return unavailable(endpoint, last, attempt - 1, 'deadline')
      const started = now()
      last = await attemptOnce(client, url, body, timeoutMs, now)
      const durationMs = now() - started
      slowestMs = Math.max(slowestMs, durationMs)
      observer.onAttempt?.({ endpoint, status: last.status, code: last.code, durationMs })

      const status = last.status ?? 0
      if (status >= 200 && status < 300) return { ok: true, status, attempts: attempt }
      if (status >= 400 && status < 500 && !isRetryable(policy, last)) {
        return { ok: false, kind: 'rejected', status, error: last.data, attempts: attempt }
      }
      const delayMs = retryDelay(policy, attempt, last, random)
      if (delayMs < 0) return unavailable(endpoint, last, attempt, isRetryable(policy, last) ? 'retry limit' : 'not retryable')
      const neededMs = Math.min(attemptCapMs, Math.max(MIN_ATTEMPT_MS, slowestMs))
      if (now() + delayMs + neededMs > deadline) return unavailable(endpoint, last, attempt, 'deadline')
      observer.onRetry?.({ endpoint, delayMs, reason: describe(last) })
      await sleep(delayMs)
    }
  }

  return {
    send,
    close() {
      httpAgent.destroy()
      httpsAgent.destroy()
    }
  }
}

/** One HTTP attempt, reduced to what we classify on; network errors become a sanitised code. */
async function attemptOnce(client: AxiosInstance, url: string, body: string, timeoutMs: number, now: () => number): Promise<Outcome> {
  // axios's `timeout` is a socket idle timer; the abort makes it a hard bound, so an attempt never outlives the deadline.
  const abort = new AbortController()
  const timer = Number.isFinite(timeoutMs) ? setTimeout(() => abort.abort(), timeoutMs) : undefined
  try {
    const response = await client.post(url, body, { timeout: Number.isFinite(timeoutMs) ? timeoutMs : 0, signal: abort.signal })
    const retryAfter = response.headers['retry-after']
    const ok = response.status >= 200 && response.status < 300
    return {
      status: response.status,
      retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, now()),
      data: ok ? undefined : errorBody(response.data)
    }
  } catch (error) {
    // Only the code is kept: an AxiosError's message, config and request carry the URL (the key) and the body (emails).
    return { code: abort.signal.aborted ? 'ETIMEDOUT' : networkErrorCode(error) }
  } finally {
    clearTimeout(timer)
  }
}

/** Koala's error answer, decoded when it is JSON (it usually is: `{error, code}`). */
function errorBody(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function networkErrorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,40}$/.test(code) ? code : 'ERR_UNKNOWN'
}

function describe(outcome: Outcome): string {
  return outcome.status !== undefined ? `HTTP ${outcome.status}` : (outcome.code ?? 'no attempt')
}

function unavailable(endpoint: string, last: Outcome, attempts: number, why: string): DeliveryResult {
  const message =
    attempts === 0
      ? `Koala ${endpoint}: the deadline passed before the first attempt`
      : `Koala ${endpoint}: ${describe(last)} after ${attempts} attempt${attempts === 1 ? '' : 's'} (${why})`
  const result: DeliveryResult = { ok: false, kind: 'unavailable', attempts, message }
  if (last.status !== undefined) result.status = last.status
  if (last.code !== undefined) result.code = last.code
  if (last.retryAfterMs !== undefined) result.retryAfterMs = last.retryAfterMs
  return result
}

/** setTimeout fires at once (with a warning) beyond 2^31-1 ms, which a long Retry-After without a deadline could ask for. */
const MAX_TIMER_MS = 2 ** 31 - 1

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS)))
}
