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
