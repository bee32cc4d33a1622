import { deliveryPolicies, type ServiceConfig } from '../../config'
import { createKoalaClient, type KoalaTarget } from '../../koala/koala-client'
import { createKoalaSink } from './koala-sink'
import { RateLimit } from './rate-limit'
import type { ReplayCounters } from '../reporting/replay-summary'
import type { ReplaySink } from './replay-sink'

/** Where and how fast a replay sends. */
export type KoalaDelivery = {
  target: KoalaTarget
  config: ServiceConfig
  /** Requests in flight at once. */
  concurrency: number
  /** Requests per second, when limited. */
  rate?: number
}

/**
 * The sink that sends to Koala, with a client of its own. A replay has no one waiting
 * on its answer: it may retry longer than a door, within each request's budget. Sockets
 * for every request in flight: one waiting for a socket would spend its attempt timeout in the queue.
 */
export function startKoalaDelivery(delivery: KoalaDelivery, counters: ReplayCounters): { sink: ReplaySink; close(): void } {
  const { config, concurrency, rate } = delivery
  // The replay's policy, built once in config.ts, with --concurrency for its own.
  const policy = { ...deliveryPolicies(config).replay, concurrency }
  const client = createKoalaClient({ ...config, koalaMaxSockets: Math.max(config.koalaMaxSockets, concurrency) }, policy, { onRetry: () => counters.retries++ })
  const sink = createKoalaSink(client, delivery.target, { ...policy, rate: rate === undefined ? undefined : new RateLimit(rate) })
  return { sink, close: () => client.close() }
}
