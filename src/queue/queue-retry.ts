/**
 * When the deliverer tries a person's request again after Koala was unavailable: rules as
 * data plus one pure function, as koala/retry-policy.ts does for the client's own retries
 * within one request's budget. These waits come on top of those, between leases.
 */
export const QUEUE_RETRY = Object.freeze({
  /** The first wait after a request failed; doubled per attempt. */
  baseMs: 1_000,
  /** No backoff step waits longer: a Koala that is back is found within 5 minutes. */
  maxMs: 5 * 60_000,
  /** A Retry-After longer than this is read as this: a wrong header must not park the queue for days. */
  maxRetryAfterMs: 60 * 60_000
})

/**
 * ms to wait before sending again entries that failed `attempts` times (1 after the first
 * failure): equal jitter over a capped exponential step (half fixed, half random, so
 * replicas spread out and no wait is near 0), and never less than Koala's Retry-After.
 */
export function queueRetryDelay(attempts: number, retryAfterMs: number | undefined, random: () => number): number {
  const step = Math.min(QUEUE_RETRY.maxMs, QUEUE_RETRY.baseMs * 2 ** Math.min(Math.max(0, attempts - 1), 30))
  const backoff = Math.floor(step / 2 + (random() * step) / 2)
  return Math.max(backoff, Math.min(retryAfterMs ?? 0, QUEUE_RETRY.maxRetryAfterMs))
}
