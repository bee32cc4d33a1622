/**
 * BASELINE for bench/koala-client.bench.ts only: the Koala client as it was on node:http
 * before it moved to axios (issue 14), kept verbatim so one bench run compares both.
 * Not used by the product.
 */
import http from 'node:http'
import https from 'node:https'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { getProxyForUrl } from 'proxy-from-env'
import { version } from '../package.json'
import type { ServiceConfig } from '../src/config'
import type { KoalaRequest, OutboundRequest } from '../src/koala/request-schema'
import { isRetryable, parseRetryAfter, retryDelay, retryPolicyFrom, type AttemptFailure } from '../src/koala/retry-policy'

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
function koalaUrl(target: KoalaTarget, endpoint: KoalaRequest['endpoint']): string {
  return `${target.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(target.publicApiKey)}/${endpoint}`
}

/** A client with one keep-alive socket pool shared by every request it sends. */
export function createKoalaClient(config: KoalaClientConfig, observer: DeliveryObserver = {}, deps: KoalaClientDeps = {}): KoalaClient {
  const { random = Math.random, sleep = realSleep, now = Date.now } = deps
  const policy = retryPolicyFrom(config, config.koalaMaxRetries)
  const attemptCapMs = config.koalaTimeoutMs > 0 ? config.koalaTimeoutMs : Infinity
  const agentOptions = { keepAlive: true, maxSockets: config.koalaMaxSockets }
  const httpAgent = new http.Agent(agentOptions)
  const httpsAgent = new https.Agent(agentOptions)
  // Behind an egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as curl reads them), requests tunnel through it
  // by CONNECT; one pooled agent per proxy, with the same keep-alive and socket cap.
  const proxyAgents = new Map<string, HttpsProxyAgent<string>>()
  const agentFor = (url: URL): http.Agent => {
    const proxy = getProxyForUrl(url.href)
    if (proxy === '') return url.protocol === 'https:' ? httpsAgent : httpAgent
    let agent = proxyAgents.get(proxy)
    if (agent === undefined) {
      agent = new HttpsProxyAgent(proxy, agentOptions)
      proxyAgents.set(proxy, agent)
    }
    return agent
  }
  const endpoints = new Map<string, Endpoint>()
  // Parsed once per URL: a service talks to a handful of workspaces' endpoints.
  const endpointOf = (url: string): Endpoint => {
    let endpoint = endpoints.get(url)
    if (endpoint === undefined) {
      endpoint = parseEndpoint(url, agentFor)
      if (endpoints.size < MAX_CACHED_ENDPOINTS) endpoints.set(url, endpoint)
    }
    return endpoint
  }

  async function send(request: OutboundRequest, target: KoalaTarget, options: { deadline?: number } = {}): Promise<DeliveryResult> {
    const { endpoint } = request
    const destination = endpointOf(koalaUrl(target, endpoint))
    // Serialised once: every retry sends the same text. Kept a string, not a Buffer: node:http then writes
    // headers and body in one go, without the copy (~5% less client CPU per request, measured).
    const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
    const deadline = options.deadline ?? Infinity
    let slowestMs = 0
    let last: Outcome = {}
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = Math.min(attemptCapMs, deadline - now())
      if (timeoutMs <= 0) return unavailable(endpoint, last, attempt - 1, 'deadline')
      const started = now()
      last = await attemptOnce(destination, body, timeoutMs, now)
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
      for (const agent of proxyAgents.values()) agent.destroy()
    }
  }
}

/** Where one Koala URL's requests go: parsed once, reused for every attempt. */
type Endpoint = { send: typeof http.request; options: http.RequestOptions; host: string } | { error: string }

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
  let agent: http.Agent
  try {
    agent = agentFor(parsed)
  } catch {
    // A proxy variable that is not a URL: reported as a code, since its text may hold the proxy's password.
    return { error: 'ERR_INVALID_PROXY' }
  }
  return {
    send: parsed.protocol === 'https:' ? https.request : http.request,
    options: {
      method: 'POST',
      protocol: parsed.protocol,
      // URL keeps the brackets of an IPv6 literal; node:http wants the bare address.
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port === '' ? undefined : Number(parsed.port),
      path: parsed.pathname + parsed.search,
      agent,
      setHost: false
    },
    host: parsed.host
  }
}

/**
 * One HTTP attempt, reduced to what we classify on; network errors become a sanitised
 * code. On node:http rather than axios: this is the hot path of the webhook door, and
 * axios cost about twice node:http's client CPU per request (BENCHMARKS.md). Redirects
 * are never followed (a 3xx would carry the key elsewhere; it is a wrong base URL).
 */
function attemptOnce(endpoint: Endpoint, body: string, timeoutMs: number, now: () => number): Promise<Outcome> {
  if ('error' in endpoint) return Promise.resolve({ code: endpoint.error })
  return new Promise((resolve) => {
    let done = false
    let timedOut = false
    let timer: NodeJS.Timeout | undefined
    const finish = (outcome: Outcome): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(outcome)
    }
    // Only the code is kept: Node's messages can name the host, a proxy's the whole URL (the key).
    const fail = (error: unknown): void => finish({ code: timedOut ? 'ETIMEDOUT' : networkErrorCode(error) })
    let request: http.ClientRequest
    try {
      // Headers as a flat array skip node:http's per-header checks: ~15% of the client's CPU per request, measured.
      const headers = ['Host', endpoint.host, 'Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body)), 'User-Agent', USER_AGENT]
      request = endpoint.send({ ...endpoint.options, headers: headers as unknown as http.OutgoingHttpHeaders })
    } catch (error) {
      fail(error)
      return
    }
    // A hard bound on the whole attempt (a socket timeout would only bound each silence).
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        timedOut = true
        request.destroy()
      }, timeoutMs)
    }
    request.on('error', fail)
    request.on('response', (response) => {
      const status = response.statusCode ?? 0
      const ok = status >= 200 && status < 300
      const chunks: Buffer[] = []
      let kept = 0
      response.on('data', (chunk: Buffer) => {
        // Success bodies are never read; they are drained so the socket goes back to the pool.
        if (ok || kept >= MAX_ERROR_BODY_BYTES) return
        chunks.push(chunk)
        kept += chunk.length
      })
      response.on('error', fail)
      response.on('end', () => {
        const retryAfter = response.headers['retry-after']
        finish({
          status,
          retryAfterMs: parseRetryAfter(retryAfter, now()),
          data: ok ? undefined : errorBody(Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8'))
        })
      })
    })
    request.end(body)
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

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS)))
}
