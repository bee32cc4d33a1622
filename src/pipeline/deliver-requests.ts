import type { DeliveryPolicy } from '../config'
import { DeliveryQueue } from './delivery-queue'

/**
 * Sends every request, at most `policy.concurrency` at once, starting them in the order
 * given, and resolves to each one's result in that order (rejects as soon as a send
 * throws). A door request's requests all share its budget, so one person's are not held
 * back behind each other: Segment resends the whole door request if any fails.
 */
export function deliverRequests<R, T>(requests: readonly R[], policy: Pick<DeliveryPolicy, 'concurrency'>, send: (request: R) => Promise<T>): Promise<T[]> {
  // A queue costs a promise per request: only pay for it when there is something to limit.
  if (requests.length <= policy.concurrency) return Promise.all(requests.map(send))
  const queue = new DeliveryQueue(policy.concurrency)
  return Promise.all(
    requests.map(
      (request) =>
        new Promise<T>((resolve, reject) =>
          queue.submit(
            () => send(request),
            (outcome) => (outcome.status === 'fulfilled' ? resolve(outcome.value) : reject(outcome.reason))
          )
        )
    )
  )
}
