import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { version } from '../../package.json'

/** The service's Prometheus metrics, on a registry of their own (tests start many apps). */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // Always 1: its labels say which build runs where (the usual Prometheus build_info pattern).
  new Gauge({
    name: 'koala_adapter_build_info',
    help: 'The running version of the adapter and of Node.js (always 1)',
    labelNames: ['version', 'node'] as const,
    registers: [registry]
  }).set({ version, node: process.version }, 1)
  return {
    registry,
    eventsReceived: new Counter({
      name: 'koala_adapter_events_received_total',
      help: 'Segment events received, by door and workspace',
      labelNames: ['door', 'workspace'] as const,
      registers: [registry]
    }),
    eventsDelivered: new Counter({
      name: 'koala_adapter_events_delivered_total',
      help: 'Segment events whose Koala requests all succeeded',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    eventsDropped: new Counter({
      name: 'koala_adapter_events_dropped_total',
      help: 'Segment events dropped on purpose, by reason',
      labelNames: ['workspace', 'reason'] as const,
      registers: [registry]
    }),
    koalaRequests: new Counter({
      name: 'koala_adapter_koala_requests_total',
      help: 'HTTP attempts to Koala, by endpoint and status (or network error code)',
      labelNames: ['endpoint', 'status'] as const,
      registers: [registry]
    }),
    koalaRetries: new Counter({
      name: 'koala_adapter_koala_retries_total',
      help: 'Retries of Koala requests',
      labelNames: ['endpoint'] as const,
      registers: [registry]
    }),
    koalaLatency: new Histogram({
      name: 'koala_adapter_koala_request_duration_seconds',
      help: 'Duration of one HTTP attempt to Koala',
      labelNames: ['endpoint'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry]
    }),
    koalaInFlight: new Gauge({
      name: 'koala_adapter_koala_requests_in_flight',
      help: 'HTTP attempts to Koala sent and not yet answered, by endpoint',
      labelNames: ['endpoint'] as const,
      registers: [registry]
    }),
    koalaConfigRefusals: new Counter({
      name: 'koala_adapter_koala_config_refusals_total',
      help: 'Koala requests refused for our key or URL (401, 403, 404, ...), answered 503 so Segment keeps the events',
      labelNames: ['workspace', 'status'] as const,
      registers: [registry]
    }),
    mappingReloadFailures: new Counter({
      name: 'koala_adapter_mapping_reload_failures_total',
      help: 'Edits of a mapping file that failed to load (the last good version keeps serving)',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    mappingStale: new Gauge({
      name: 'koala_adapter_mapping_stale',
      help: '1 while a workspace serves its last good mapping because its file is missing or fails to load, else 0',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    eventsQueued: new Counter({
      name: 'koala_adapter_events_queued_total',
      help: 'Segment events stored in the queue (queue mode), to be delivered by the deliverer',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    queueDepth: new Gauge({
      name: 'koala_adapter_queue_depth',
      help: 'Queued Koala entries waiting to be delivered (queue mode), refreshed every few seconds',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    queueOldestAge: new Gauge({
      name: 'koala_adapter_queue_oldest_age_seconds',
      help: 'Age of the oldest queued entry waiting (queue mode); 0 when none waits',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    queueDeadLetters: new Gauge({
      name: 'koala_adapter_queue_dead_letters',
      help: 'Entries in the dead letters (queue mode): refused by Koala for good, or older than QUEUE_MAX_AGE',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    queuePaused: new Gauge({
      name: 'koala_adapter_queue_paused',
      help: '1 while a workspace\'s delivery is paused because Koala refuses its key or URL (queue mode), else 0',
      labelNames: ['workspace'] as const,
      registers: [registry]
    }),
    queueRequests: new Counter({
      name: 'koala_adapter_queue_requests_total',
      help: 'Koala requests of the deliverer (queue mode), by how they settled: ack, retry, dead, pause',
      labelNames: ['workspace', 'outcome'] as const,
      registers: [registry]
    }),
    queueEntriesPerRequest: new Histogram({
      name: 'koala_adapter_queue_entries_per_request',
      help: 'Queued entries one Koala request of the deliverer carried (batching across door requests)',
      buckets: [1, 2, 5, 10, 20, 30, 60, 90],
      registers: [registry]
    }),
    queueTakeovers: new Counter({
      name: 'koala_adapter_queue_takeovers_total',
      help: 'Leases this replica took over from one whose lease expired (queue mode, PostgreSQL): their entries may be sent twice',
      registers: [registry]
    }),
    httpLatency: new Histogram({
      name: 'koala_adapter_http_request_duration_seconds',
      help: 'Time from a door receiving a request to answering it',
      labelNames: ['route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry]
    })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
