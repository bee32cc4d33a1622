import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import { deliveryPolicies, type ServiceConfig } from '../config'
import { realTimer, type KoalaClient, type SetTimer } from '../koala/koala-client'
import { startDeliverer } from '../queue/deliverer'
import { openQueueStore } from '../queue/open-queue-store'
import type { QueueStatus, QueueStore } from '../queue/queue-store'
import type { QueueStoreOptions } from '../queue/queue-store-options'
import type { Workspace } from '../workspace/resolve-workspace'
import type { WorkspaceRegistry } from '../workspace/workspace-registry'
import type { Metrics } from './metrics'

/** The queue's depth, ages, dead letters and pauses are read from the store this often, for metrics and /readyz. */
export const QUEUE_STATUS_EVERY_MS = 5_000

/** Queue mode as the service runs it: the store the doors append to, and the deliverer sending from it. */
export type QueueMode = {
  store: QueueStore
  /** Tells the deliverer a door stored entries. */
  wake(): void
  /** The store's status as last read (every few seconds); undefined before the first read. */
  status(): QueueStatus | undefined
  /** Stops the deliverer (requests in flight settle), then closes the store. */
  stop(): Promise<void>
}

export type QueueModeDeps = {
  url: string
  config: Readonly<ServiceConfig>
  registry: WorkspaceRegistry<Workspace>
  /** The client made with the queue's DeliveryPolicy (its retries within one request). */
  client: KoalaClient
  metrics: Metrics
  logger: Logger
  now: () => number
  /** The store's clock, when a test fakes time; else the store's own (the database's, for PostgreSQL). */
  storeClock?: () => number
  setTimer?: SetTimer
}

/** Opens QUEUE_URL's store (CONFIG_INVALID when it cannot) and starts the deliverer on it. */
export async function startQueueMode(deps: QueueModeDeps): Promise<QueueMode> {
  const { config, metrics, logger } = deps
  const setTimer = deps.setTimer ?? realTimer
  // One process delivers from a SQLite file: what it finds leased at start, a killed run left.
  // The store keeps its own clock (PostgreSQL's, one for every replica) unless a test fakes time.
  const options: QueueStoreOptions = {
    soleDeliverer: true,
    ...(deps.storeClock === undefined ? {} : { now: deps.storeClock }),
    onThreadFailure: (message) => logger.error({ err: { message } }, 'queue: the SQLite store thread died; requests waiting on it were answered 503, and the next one a second later starts it again')
  }
  if (config.queueMaxEntries !== undefined) options.maxEntries = config.queueMaxEntries
  if (config.queueMaxBytes !== undefined) options.maxBytes = config.queueMaxBytes
  const store = await openQueueStore(deps.url, options)
  // One name per process: a restarted replica must not pass for the one whose leases it finds.
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const deliverer = startDeliverer({
    store,
    client: deps.client,
    targetOf: (workspace) => deps.registry.get(workspace)?.koala,
    servedWorkspaces: () => deps.registry.names(),
    policy: deliveryPolicies(config).queue,
    lingerMs: config.queueLingerMs,
    maxAgeMs: config.queueMaxAgeMs,
    leaseMs: config.queueLeaseMs,
    owner,
    logger,
    now: deps.now,
    setTimer,
    onRequest: ({ workspace, entries, action, takenOver }) => {
      metrics.queueRequests.inc({ workspace, outcome: action })
      metrics.queueEntriesPerRequest.observe(entries)
      if (takenOver) metrics.queueTakeovers.inc()
    }
  })

  let last: QueueStatus | undefined
  const shown = new Set<string>()
  const refresh = async () => {
    last = await store.status()
    const now = new Set(last.workspaces.map((w) => w.workspace))
    // A workspace whose entries are all gone drops out of the status: its gauges go to 0, not stale.
    for (const gone of [...shown].filter((name) => !now.has(name))) {
      for (const gauge of [metrics.queueDepth, metrics.queueOldestAge, metrics.queueDeadLetters, metrics.queuePaused]) gauge.set({ workspace: gone }, 0)
      shown.delete(gone)
    }
    for (const w of last.workspaces) {
      shown.add(w.workspace)
      metrics.queueDepth.set({ workspace: w.workspace }, w.depth)
      metrics.queueOldestAge.set({ workspace: w.workspace }, w.oldestAgeMs / 1000)
      metrics.queueDeadLetters.set({ workspace: w.workspace }, w.deadLetters)
      metrics.queuePaused.set({ workspace: w.workspace }, w.paused ? 1 : 0)
    }
  }
  let stopped = false
  let cancel: (() => void) | undefined
  let refreshing: Promise<void> | undefined
  const tick = () => {
    refreshing = refresh()
      .catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'queue: reading its status failed'))
      .finally(() => {
        if (!stopped) cancel = setTimer(tick, QUEUE_STATUS_EVERY_MS)
      })
  }
  tick()
  logger.info({ store: store.kind, owner, lingerMs: config.queueLingerMs, maxAgeMs: config.queueMaxAgeMs }, 'queue mode: the doors store, the deliverer sends')

  return {
    store,
    wake: deliverer.wake,
    status: () => last,
    async stop() {
      stopped = true
      cancel?.()
      await refreshing
      await deliverer.stop()
      await store.close()
    }
  }
}
