import type { ServiceConfig } from '../config'

/**
 * When a failed Koala request is tried again, and after how long: rules as data plus
 * pure functions (like got's `calculateRetryDelay`), so the delivery loop stays short
 * and all of this is tested without a network.
 */
export type RetryPolicy = {
  /** Retries after the first attempt. */
  maxRetries: number
  baseMs: number
  maxMs: number
  statusCodes: ReadonlySet<number>
  errorCodes: ReadonlySet<string>
}

/** What a failed attempt left us: an HTTP status, or a network error code, and the server's Retry-After. */
export type AttemptFailure = { status?: number; code?: string; retryAfterMs?: number }

/**
 * 408 and 429 ask for a retry; every 5xx is treated as the server's passing trouble
 * except 501 (Not Implemented) and 505 (HTTP Version Not Supported), which will
 * answer the same way however often we ask.
 */
const RETRY_STATUS_CODES: ReadonlySet<number> = new Set([
  408,
  429,
  ...Array.from({ length: 100 }, (_, i) => 500 + i).filter((status) => status !== 501 && status !== 505)
])

/**
 * Network failures that say nothing about the request itself. ENOTFOUND is left out
 * on purpose: Node reports a DNS NXDOMAIN with it, which in practice means a wrong
 * KOALA_BASE_URL and does not heal within one request's budget; a resolver that is
 * merely struggling answers EAI_AGAIN, which is in. (An ENOTFOUND still comes back
 * as `unavailable`, so Segment keeps the events and retries them for hours.)
 */
const RETRY_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', // includes Node's "socket hang up", e.g. a keep-alive socket the server closed under us
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT', // our own per-attempt timeout, or the OS's connect timeout
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRINUSE' // local ephemeral ports exhausted for a moment
])

/**
 * The permanent refusals that are Koala's verdict on the events a request carries
 * (malformed, too large, unprocessable). Any other 4xx that is not retried (401, 403,
 * 404, 405, ...) says Koala refuses *us*: a wrong key or base URL, which a person can fix
 * while Segment keeps the events.
 */
const EVENT_VERDICT_STATUSES: ReadonlySet<number> = new Set([400, 413, 422])

/** True when a permanent refusal with this status is about the events themselves, not our configuration. */
export function refusesTheEvents(status: number): boolean {
  return EVENT_VERDICT_STATUSES.has(status)
}

/** The policy a client runs with: the backoff from the settings, the retry count from its door's DeliveryPolicy. */
export function retryPolicyFrom(backoff: Pick<ServiceConfig, 'koalaBackoffBaseMs' | 'koalaBackoffMaxMs'>, maxRetries: number): RetryPolicy {
  return Object.freeze({
    maxRetries,
    baseMs: backoff.koalaBackoffBaseMs,
    maxMs: backoff.koalaBackoffMaxMs,
    statusCodes: RETRY_STATUS_CODES,
    errorCodes: RETRY_ERROR_CODES
  })
}

/** True when this kind of failure may succeed if asked again (whatever the retry count). */
export function isRetryable(policy: RetryPolicy, failure: AttemptFailure): boolean {
  if (failure.status !== undefined) return policy.statusCodes.has(failure.status)
  return failure.code !== undefined && policy.errorCodes.has(failure.code)
}

/**
 * ms to wait before retry number `retry` (1-based), or -1 when this failure must not be retried.
 *
 * "Equal jitter": half of the capped exponential step is fixed, the other half random.
 * Full jitter spreads load a little better, but it can draw ~0 ms several times in a
 * row, and with only a handful of retries inside a 3.5 s budget that burns them
 * against a server that has had no time to recover; the fixed half guarantees each
 * retry waits at least base·2^(n-2), the random half still de-synchronises replicas.
 * A Retry-After from the server replaces the backoff, even beyond `maxMs`: the caller's
 * deadline decides whether it can wait that long.
 */
export function retryDelay(policy: RetryPolicy, retry: number, failure: AttemptFailure, random: () => number): number {
  if (retry < 1 || retry > policy.maxRetries || !isRetryable(policy, failure)) return -1
  if (failure.retryAfterMs !== undefined) return failure.retryAfterMs
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (retry - 1))
  return Math.floor(step / 2 + (random() * step) / 2)
}

/**
 * The wait a Retry-After header asks for, in ms (never negative), or undefined when the
 * header is absent or malformed. Accepts delay-seconds and the HTTP-date forms (RFC 9110 §10.2.3).
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  const value = header?.trim()
  if (!value) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  // Every HTTP-date form names its month; without this, Date.parse reads "1.5" as a date.
  if (!/[a-z]/i.test(value)) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
