import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { version } from '../../package.json'

/** The service's Prometheus metrics, on a registry of their own (tests start many apps). */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Counter<L>({ name, help, labelNames, registers: [registry] })
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers: [registry] })
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, buckets, labelNames, registers: [registry] })
  // Always 1: its labels say which build runs where (the usual Prometheus build_info pattern).
  gauge('koala_adapter_build_info', 'The running version of the adapter and of Node.js (always 1)', ['version', 'node']).set({ version, node: process.version }, 1)
  return {
    registry,
    eventsReceived: counter('koala_adapter_events_received_total', 'Segment events received, by door and workspace', ['door', 'workspace']),
    eventsDelivered: counter('koala_adapter_events_delivered_total', 'Segment events whose Koala requests all succeeded', ['workspace']),
    eventsDropped: counter('koala_adapter_events_dropped_total', 'Segment events dropped on purpose, by reason', ['workspace', 'reason']),
    koalaRequests: counter('koala_adapter_koala_requests_total', 'HTTP attempts to Koala, by endpoint and status (or network error code)', ['endpoint', 'status']),
    koalaRetries: counter('koala_adapter_koala_retries_total', 'Retries of Koala requests', ['endpoint']),
    koalaLatency: histogram('koala_adapter_koala_request_duration_seconds', 'Duration of one HTTP attempt to Koala', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], ['endpoint']),
    koalaInFlight: gauge('koala_adapter_koala_requests_in_flight', 'HTTP attempts to Koala sent and not yet answered, by endpoint', ['endpoint']),
    koalaConfigRefusals: counter('koala_adapter_koala_config_refusals_total', 'Koala requests refused for our key or URL (401, 403, 404, ...), answered 503 so Segment keeps the events', ['workspace', 'status']),
    mappingReloadFailures: counter('koala_adapter_mapping_reload_failures_total', 'Edits of a mapping file that failed to load (the last good version keeps serving)', ['workspace']),
    mappingStale: gauge('koala_adapter_mapping_stale', '1 while a workspace serves its last good mapping because its file is missing or fails to load, else 0', ['workspace']),
    eventsQueued: counter('koala_adapter_events_queued_total', 'Segment events stored in the queue (queue mode), to be delivered by the deliverer', ['workspace']),
    queueDepth: gauge('koala_adapter_queue_depth', 'Queued Koala entries waiting to be delivered (queue mode), refreshed every few seconds', ['workspace']),
    queueOldestAge: gauge('koala_adapter_queue_oldest_age_seconds', 'Age of the oldest queued entry waiting (queue mode); 0 when none waits', ['workspace']),
    queueDeadLetters: gauge('koala_adapter_queue_dead_letters', 'Entries in the dead letters (queue mode): refused by Koala for good, or older than QUEUE_MAX_AGE', ['workspace']),
    queuePaused: gauge('koala_adapter_queue_paused', '1 while a workspace\'s delivery is paused because Koala refuses its key or URL (queue mode), else 0', ['workspace']),
    queueRequests: counter('koala_adapter_queue_requests_total', 'Koala requests of the deliverer (queue mode), by how they settled: ack, retry, dead, pause', ['workspace', 'outcome']),
    queueEntriesPerRequest: histogram('koala_adapter_queue_entries_per_request', 'Queued entries one Koala request of the deliverer carried (batching across door requests)', [1, 2, 5, 10, 20, 30, 60, 90]),
    queueTakeovers: counter('koala_adapter_queue_takeovers_total', 'Leases this replica took over from one whose lease expired (queue mode, PostgreSQL): their entries may be sent twice'),
    httpLatency: histogram('koala_adapter_http_request_duration_seconds', 'Time from a door receiving a request to answering it', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], ['route', 'status'])
  }
}

export type Metrics = ReturnType<typeof createMetrics>
