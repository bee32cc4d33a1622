import type http from 'node:http'
import type { Readable } from 'node:stream'
import axios, { type AxiosInstance } from 'axios'
import { version } from '../../package.json'
import type { DeliveryPolicy, ServiceConfig } from '../config'
import { createKoalaAgents } from './koala-agents'
import type { KoalaRequest, OutboundRequest } from './request-schema'
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
  send(request: OutboundRequest, target: KoalaTarget, options?: { deadline?: number }): Promise<DeliveryResult>
  /** Closes the pooled sockets. */
  close(): void
}

/** Sees every attempt and retry, e.g. for metrics and logs; gets no URL, key or body. */
export type DeliveryObserver = {
  /** An HTTP attempt starts; `onAttempt` follows for each, once it has ended. */
  onAttemptStart?(info: { endpoint: string }): void
  /** An HTTP attempt ended, with its status or network error code. */
  onAttempt?(info: { endpoint: string; status?: number; code?: string; durationMs: number }): void
  onRetry?(info: { endpoint: string; delayMs: number; reason: string }): void
}

/** How the client talks to Koala, the same for every door; how often it retries is the door's DeliveryPolicy. */
export type KoalaClientConfig = Pick<ServiceConfig, 'koalaMaxSockets' | 'koalaTimeoutMs' | 'koalaBackoffBaseMs' | 'koalaBackoffMaxMs'>

/** Starts a timer that calls `fire` after `ms`; the function it returns cancels it. */
export type SetTimer = (fire: () => void, ms: number) => () => void

/**
 * What the client takes from its surroundings, so a test can drive time: `now` reads the clock,
 * `sleep` waits between attempts, `setTimer` bounds each attempt (real timers by default).
 */
export type KoalaClientDeps = { random?: () => number; sleep?: (ms: number) => Promise<void>; now?: () => number; setTimer?: SetTimer }

type Outcome = AttemptFailure & { data?: unknown }

/** The URL of one Koala endpoint; it holds the public key, so it never goes into a message. */
function koalaUrl(target: KoalaTarget, endpoint: KoalaRequest['endpoint']): string {
  return `${target.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(target.publicApiKey)}/${endpoint}`
}

/** A client with one keep-alive socket pool shared by every request it sends, retrying as its door's policy says. */
export function createKoalaClient(
  config: KoalaClientConfig,
  delivery: Pick<DeliveryPolicy, 'maxRetries'>,
  observer: DeliveryObserver = {},
  deps: KoalaClientDeps = {}
): KoalaClient {
  const { random = Math.random, sleep = realSleep, now = Date.now, setTimer = realTimer } = deps
  const policy = retryPolicyFrom(config, delivery.maxRetries)
  const attemptCapMs = config.koalaTimeoutMs > 0 ? config.koalaTimeoutMs : Infinity
  const agents = createKoalaAgents(config.koalaMaxSockets)
  const transport = createTransport()
  const endpoints = new Map<string, Endpoint>()
  // Parsed once per URL: a service talks to a handful of workspaces' endpoints.
  const endpointOf = (url: string): Endpoint => {
    let endpoint = endpoints.get(url)
    if (endpoint === undefined) {
      endpoint = parseEndpoint(url, agents.agentFor)
      if (endpoints.size < MAX_CACHED_ENDPOINTS) endpoints.set(url, endpoint)
    }
    return endpoint
  }

  async function send(request: OutboundRequest, target: KoalaTarget, options: { deadline?: number } = {}): Promise<DeliveryResult> {
    const { endpoint } = request
    const destination = endpointOf(koalaUrl(target, endpoint))
    // Serialised once: every retry sends the same text (axios is told not to touch it).
    const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
    const deadline = options.deadline ?? Infinity
    let slowestMs = 0
    let last: Outcome = {}
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = Math.min(attemptCapMs, deadline - now())
      if (timeoutMs <= 0) return unavailable(endpoint, last, attempt - 1, 'deadline')
      const started = now()
      observer.onAttemptStart?.({ endpoint })
      last = await attemptOnce(transport, destination, body, timeoutMs, now, setTimer)
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
      agents.destroy()
    }
  }
}

/** Where one Koala URL's requests go: checked once, reused for every attempt. */
type Endpoint = { url: string; agent: http.Agent } | { error: string }

/** A service talks to a few workspaces' endpoints; the cap only guards against a leak. */
const MAX_CACHED_ENDPOINTS = 1000

/** Koala's error answers are small JSON; anything longer is cut, never buffered whole. */
const MAX_ERROR_BODY_BYTES = 64 * 1024

function parseEndpoint(url: string, agentFor: (url: URL) => http.Agent): Endpoint {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { error: 'ERR_INVALID_URL' }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { error: 'ERR_INVALID_PROTOCOL' }
  try {
    return { url, agent: agentFor(parsed) }
  } catch {
    // A proxy variable that is not a URL: reported as a code, since its text may hold the proxy's password.
    return { error: 'ERR_INVALID_PROXY' }
  }
}

/**
 * The one axios instance a client sends with, set up for the hot path and for
 * classifying every answer ourselves:
 * - `maxRedirects: 0`: a 3xx would carry the key elsewhere (it is a wrong base URL), and
 *   with 0 axios calls node:http directly instead of wrapping it in follow-redirects;
 * - `proxy: false`: the agent already tunnels through the environment's proxy
 *   (koala-agents.ts); axios's own reading of HTTP(S)_PROXY would apply it a second time;
 * - the body is JSON text already (rendered or stringified once per delivery): the
 *   identity transform keeps axios from parsing and trimming it again on every attempt;
 * - every status resolves and the body stays a stream, so the caller drains success
 *   bodies unread and keeps at most 64 KB of an error body;
 * - `Accept-Encoding: identity`, as the node:http client sent (no header): nothing to
 *   inflate on the hot path, and error bodies stay readable text.
 */
function createTransport(): AxiosInstance {
  const identity = (data: unknown): unknown => data
  return axios.create({
    adapter: 'http',
    method: 'post',
    maxRedirects: 0,
    proxy: false,
    validateStatus: () => true,
    responseType: 'stream',
    transformRequest: [identity],
    transformResponse: [identity],
    headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, Accept: 'application/json', 'Accept-Encoding': 'identity' }
  })
}

/**
 * One HTTP attempt, reduced to what we classify on. Network errors become a sanitised
 * code: an AxiosError carries the URL (with the key), the headers and the body, so
 * nothing of it but its code leaves this function.
 */
function attemptOnce(transport: AxiosInstance, endpoint: Endpoint, body: string, timeoutMs: number, now: () => number, setTimer: SetTimer): Promise<Outcome> {
  if ('error' in endpoint) return Promise.resolve({ code: endpoint.error })
  return new Promise((resolve) => {
    let done = false
    let cancelTimer: (() => void) | undefined
    let stream: Readable | undefined
    const aborter = new AbortController()
    const finish = (outcome: Outcome): void => {
      if (done) return
      done = true
      cancelTimer?.()
      resolve(outcome)
    }
    // Only the code is kept: Node's messages can name the host, a proxy's the whole URL (the key).
    const fail = (error: unknown): void => finish({ code: networkErrorCode(error) })
    // A hard bound on the whole attempt, body included (axios's `timeout` only bounds each silence).
    if (Number.isFinite(timeoutMs)) {
      cancelTimer = setTimer(() => {
        finish({ code: 'ETIMEDOUT' })
        aborter.abort()
        stream?.destroy()
      }, Math.min(timeoutMs, MAX_TIMER_MS))
    }
    transport
      .request<Readable>({ url: endpoint.url, data: body, httpAgent: endpoint.agent, httpsAgent: endpoint.agent, signal: aborter.signal })
      .then((response) => {
        const data = response.data
        if (done) {
          data.destroy()
          return
        }
        stream = data
        const status = response.status
        const ok = status >= 200 && status < 300
        const chunks: Buffer[] = []
        let kept = 0
        data.on('data', (chunk: Buffer) => {
          // Success bodies are never read; they are drained so the socket goes back to the pool.
          if (ok || kept >= MAX_ERROR_BODY_BYTES) return
          chunks.push(chunk)
          kept += chunk.length
        })
        data.on('error', fail)
        // An answer cut off in its body closes without an end: a reset, worth a retry.
        data.on('close', () => finish({ code: 'ECONNRESET' }))
        data.on('end', () => {
          const retryAfter = response.headers['retry-after']
          finish({
            status,
            retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined, now()),
            data: ok ? undefined : errorBody(Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8'))
          })
        })
      }, fail)
  })
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

/** The SetTimer of real time (setTimeout), for whoever is not handed a test's. */
export function realTimer(fire: () => void, ms: number): () => void {
  const timer = setTimeout(fire, Math.min(ms, MAX_TIMER_MS))
  return () => clearTimeout(timer)
}

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS)))
}
