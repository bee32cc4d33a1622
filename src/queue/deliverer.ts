import type { Logger } from 'pino'
import type { DeliveryPolicy } from '../config'
import { realTimer, type KoalaClient, type KoalaTarget, type SetTimer } from '../koala/koala-client'
import { MAX_ENTRIES_PER_KIND } from '../koala/request-schema'
import { DeliveryQueue } from '../pipeline/delivery-queue'
import { renderLeasedRequest } from './leased-request'
import { LogThrottle } from './log-throttle'
import type { LeasedPerson, QueueStore } from './queue-store'
import { queueRetryDelay } from './queue-retry'
import { settlementOf, type Settlement } from './settlement'
import { WorkspacePauses } from './workspace-pauses'

/** The poll never runs more often than this, whatever QUEUE_LINGER_MS is. */
const MIN_POLL_MS = 20
/** A paused workspace is tried again after this; the store is swept of expired entries this often. */
const DEFAULT_PROBE_MS = 60_000
const DEFAULT_SWEEP_MS = 60_000
/** A settle the store refused (a full disk) is written again this often, so its person is not held until the lease ends. */
const SETTLE_RETRY_MS = 1_000

export type DelivererDeps = {
  store: QueueStore
  client: KoalaClient
  /** Where a workspace's requests go; undefined when this replica does not serve it (its entries wait). */
  targetOf(workspace: string): KoalaTarget | undefined
  /**
   * The workspaces this replica serves (has a mapping for), read at each lease: it leases only
   * theirs, and leaves the others' people to a replica that serves them. All when absent.
   */
  servedWorkspaces?(): readonly string[]
  /** Requests in flight at once (across people), each one's budget (the client's retries included) and retries. */
  policy: DeliveryPolicy
  /** How long a person's oldest entry waits for more of the same person (QUEUE_LINGER_MS). */
  lingerMs: number
  /** Entries waiting longer than this are dead-lettered (QUEUE_MAX_AGE). */
  maxAgeMs: number
  /** A lease this replica does not settle within this is taken over by another (QUEUE_LEASE_MS); above the budget. */
  leaseMs: number
  /** This replica's name in the store's leases. */
  owner: string
  logger: Logger
  now?: () => number
  setTimer?: SetTimer
  random?: () => number
  /** How long a workspace stays paused before it is tried again; 60 s. */
  pauseProbeMs?: number
  /** How often entries past maxAgeMs are swept to the dead letters; 60 s. */
  sweepIntervalMs?: number
  /** Sees every Koala request once it is settled (metrics). */
  onRequest?(info: SettledRequest): void
}

/** One Koala request of the deliverer, settled. */
export type SettledRequest = { workspace: string; entries: number; action: Settlement['action']; takenOver: boolean }

export type Deliverer = {
  /** Stops leasing, lets the requests in flight settle (each bounded by the policy's budget), then resolves. */
  stop(): Promise<void>
  /** Says entries were appended: they are leased once their linger is over. Cheap: at most one timer per linger. */
  wake(): void
}

/**
 * Sends what the queue store holds to Koala: leases due people (lingered, not paused, not
 * leased elsewhere), sends one request per person through the one limiter (DeliveryQueue,
 * `policy.concurrency` at once), and settles each (settlement.ts): acknowledged, retried
 * later with backoff, dead-lettered with Koala's answer, or its workspace paused. Leases
 * when woken and on a poll (about half the linger), so replicas find each other's entries.
 */
export function startDeliverer(deps: DelivererDeps): Deliverer {
  const { store, policy, owner, logger } = deps
  const now = deps.now ?? Date.now
  const setTimer = deps.setTimer ?? realTimer
  const random = deps.random ?? Math.random
  const probeMs = deps.pauseProbeMs ?? DEFAULT_PROBE_MS
  const queue = new DeliveryQueue(policy.concurrency)
  const unserved = new LogThrottle(probeMs, now)
  const pauses = new WorkspacePauses({ store, logger, now, setTimer, probeMs, resumed: () => pump() })
  const timers = new Set<() => void>()
  /** Leased and not yet settled: what the next lease leaves room for. */
  let outstanding = 0
  let leasing: Promise<void> | undefined
  let leaseAgain = false
  /** The last lease filled the room, or a request went full: more is likely due without waiting for the poll. */
  let moreDue = false
  let wakeTimer: (() => void) | undefined
  let stopping = false
  /** Settles waiting to be written again; stop() releases them. */
  const settleWaits = new Set<() => void>()
  const refusedSettles = new LogThrottle(probeMs, now)

  /**
   * Writes a settle, again every SETTLE_RETRY_MS while the store refuses it (a full disk,
   * a database refusing writes): Koala's answer is known, and a lease left to expire would
   * hold the person for QUEUE_LEASE_MS, then send the request again. Gives up on stop().
   */
  async function persist(write: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        return await write()
      } catch (error) {
        if (stopping) throw error
        if (refusedSettles.due('settle')) logger.error({ err: summary(error) }, 'queue: the store refused a settle; writing it again every second')
        await new Promise<void>((resolve) => {
          const done = () => {
            cancel()
            settleWaits.delete(done)
            resolve()
          }
          const cancel = setTimer(done, SETTLE_RETRY_MS)
          settleWaits.add(done)
        })
      }
    }
  }

  function pump(): void {
    if (stopping) return
    if (leasing !== undefined) {
      leaseAgain = true
      return
    }
    const room = policy.concurrency - outstanding
    if (room <= 0) return
    leasing = leaseAndSend(room)
      .catch((error: unknown) => logger.error({ err: summary(error) }, 'queue: leasing failed; trying again at the next poll'))
      .finally(() => {
        leasing = undefined
        if (leaseAgain) {
          leaseAgain = false
          pump()
        }
      })
  }

  async function leaseAndSend(room: number): Promise<void> {
    // No `now`: the store times leases by its own clock (PostgreSQL's, shared by every replica).
    const workspaces = deps.servedWorkspaces?.()
    const leased = await store.lease(owner, { maxPeople: room, maxPerKind: MAX_ENTRIES_PER_KIND, leaseMs: deps.leaseMs, lingerMs: deps.lingerMs, workspaces })
    moreDue = leased.length === room
    for (const person of leased) {
      outstanding++
      queue.submit(
        () => deliver(person),
        (outcome) => {
          outstanding--
          if (outcome.status === 'rejected') {
            // Its lease stays until it expires; then this or another replica sends the entries again.
            logger.error({ workspace: person.workspace, entries: person.entries.length, err: summary(outcome.reason) }, 'queue: settling a Koala request failed')
          }
          if (moreDue) pump()
        },
        `${person.workspace}\n${person.key}`
      )
    }
  }

  async function deliver(person: LeasedPerson): Promise<void> {
    const { workspace, entries } = person
    const ids = entries.map((entry) => entry.id)
    // Each settle ends this replica's lease on the person, even when a stale owner settled the ids first.
    const who = { workspace, key: person.key }
    const target = deps.targetOf(workspace)
    if (target === undefined) {
      if (deps.servedWorkspaces !== undefined) {
        // Its mapping went between the lease and now (a reload); the next lease leaves it to those that serve it.
        await store.retryLater(owner, ids, 0, 'workspace not served', who)
        return
      }
      if (unserved.due(workspace)) logger.error({ workspace, entries: entries.length }, `queue: workspace ${workspace} has entries but no mapping here; they wait (and expire after QUEUE_MAX_AGE)`)
      await store.retryLater(owner, ids, probeMs, 'workspace not served', who)
      return
    }
    const result = await deps.client.send(renderLeasedRequest(entries, MAX_ENTRIES_PER_KIND), target, { deadline: now() + policy.budgetMs })
    const settlement = settlementOf(result)
    if (settlement.action === 'ack') {
      await persist(() => store.ack(owner, ids, who))
      pauses.succeeded(workspace)
      if (isFull(person)) moreDue = true
    } else if (settlement.action === 'retry') {
      const attempts = 1 + Math.max(...entries.map((entry) => entry.attempts))
      const delayMs = queueRetryDelay(attempts, settlement.retryAfterMs, random)
      await persist(() => store.retryLater(owner, ids, delayMs, settlement.reason, who))
      logger.warn({ workspace, entries: entries.length, attempts, retryInMs: delayMs, reason: settlement.reason }, 'queue: Koala unavailable; the request waits and is sent again')
    } else if (settlement.action === 'dead') {
      await persist(() => store.deadLetter(owner, ids, settlement.reason, who))
      logger.error({ workspace, entries: entries.length, reason: settlement.reason }, 'queue: Koala refused entries for good; they are in the dead letters')
    } else {
      await persist(() => pauses.pause(workspace, settlement.status, settlement.reason))
      // Due at once, but the workspace is paused: they go with the first request after the probe.
      await persist(() => store.retryLater(owner, ids, 0, settlement.reason, who))
    }
    deps.onRequest?.({ workspace, entries: entries.length, action: settlement.action, takenOver: person.takenOver })
  }

  const every = (ms: number, tick: () => void): void => {
    const arm = () => {
      const cancel = setTimer(() => {
        timers.delete(cancel)
        tick()
        if (!stopping) arm()
      }, ms)
      timers.add(cancel)
    }
    arm()
  }

  async function sweep(): Promise<void> {
    const swept = await store.sweepExpired(deps.maxAgeMs)
    if (swept > 0) logger.error({ entries: swept, maxAgeMs: deps.maxAgeMs }, 'queue: entries waited longer than QUEUE_MAX_AGE; they are in the dead letters')
    const status = await store.status()
    pauses.adopt(status)
    const served = deps.servedWorkspaces?.()
    if (served === undefined) return
    for (const { workspace, depth } of status.workspaces) {
      if (depth > 0 && !served.includes(workspace) && unserved.due(workspace)) {
        logger.error({ workspace, entries: depth }, `queue: workspace ${workspace} has entries but no mapping here; another replica that has one sends them, else they wait (and expire after QUEUE_MAX_AGE)`)
      }
    }
  }
  const sweepSafely = () => void sweep().catch((error: unknown) => logger.error({ err: summary(error) }, 'queue: the sweep of expired entries failed; trying again later'))

  every(Math.max(MIN_POLL_MS, Math.floor(deps.lingerMs / 2)), pump)
  every(deps.sweepIntervalMs ?? DEFAULT_SWEEP_MS, sweepSafely)
  sweepSafely()
  pump()

  return {
    wake() {
      if (stopping || wakeTimer !== undefined) return
      // 1 ms past the linger: the entry just appended is due by then, whatever the timer's rounding.
      wakeTimer = setTimer(() => {
        wakeTimer = undefined
        pump()
      }, deps.lingerMs + 1)
    },
    async stop() {
      stopping = true
      wakeTimer?.()
      for (const cancel of timers) cancel()
      timers.clear()
      pauses.stop()
      for (const release of [...settleWaits]) release()
      await leasing
      await queue.idle()
    }
  }
}

/** A request that took a full kind: the person may have more waiting, due at once. */
function isFull(person: LeasedPerson): boolean {
  const perKind: Record<string, number> = {}
  for (const entry of person.entries) if ((perKind[entry.kind] = (perKind[entry.kind] ?? 0) + 1) >= MAX_ENTRIES_PER_KIND) return true
  return false
}

/** An error as a log field: its code and message, which our store errors keep free of rows. */
function summary(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code
  return { ...(typeof code === 'string' ? { code } : {}), message: error instanceof Error ? error.message : String(error) }
}
