import type { Logger } from 'pino'
import type { SetTimer } from '../koala/koala-client'
import { LogThrottle } from './log-throttle'
import type { QueueStatus, QueueStore } from './queue-store'

/** A pause is logged at most this often per workspace. */
export const PAUSE_LOG_INTERVAL_MS = 60_000

/**
 * The workspaces whose key or URL Koala refuses, paused in the store. Each is tried again
 * (resumed) `probeMs` after its pause; if Koala still refuses, the next request pauses it
 * again, and a success ends it. Pauses this replica did not make (another replica's, or
 * left by an earlier run) are adopted from the store's status, so one always gets a probe.
 */
export class WorkspacePauses {
  /** Paused or being probed, with the cancel of its probe timer (undefined while probing). */
  private readonly known = new Map<string, (() => void) | undefined>()
  private readonly loud: LogThrottle
  private stopped = false

  constructor(
    private readonly deps: {
      store: QueueStore
      logger: Logger
      now: () => number
      setTimer: SetTimer
      probeMs: number
      /** Called after a workspace is resumed, so its entries are leased at once. */
      resumed: () => void
    }
  ) {
    this.loud = new LogThrottle(PAUSE_LOG_INTERVAL_MS, deps.now)
  }

  /** Pauses `workspace` in the store, logs it loudly (once a minute) and plans its probe. */
  async pause(workspace: string, status: number, reason: string): Promise<void> {
    await this.deps.store.pauseWorkspace(workspace, reason)
    if (this.loud.due(workspace)) {
      const hint = status === 404 ? 'its Koala base URL or project key' : 'its Koala public API key'
      this.deps.logger.error(
        { workspace, status, reason, probeInMs: this.deps.probeMs },
        `Koala refuses workspace ${workspace}'s configuration (HTTP ${status}): its delivery is paused, nothing is dropped; check ${hint}. Trying again every ${Math.round(this.deps.probeMs / 1000)} s`
      )
    }
    this.planProbe(workspace)
  }

  /** Koala took a request of `workspace`: a pause of it is over. */
  succeeded(workspace: string): void {
    if (!this.known.has(workspace)) return
    this.known.get(workspace)?.()
    this.known.delete(workspace)
    this.loud.clear(workspace)
    this.deps.logger.warn({ workspace }, `Koala takes workspace ${workspace}'s configuration again: delivery resumed`)
  }

  /** Plans a probe for every workspace the store shows paused that this replica does not know of. */
  adopt(status: QueueStatus): void {
    for (const workspace of status.workspaces) if (workspace.paused && this.known.get(workspace.workspace) === undefined) this.planProbe(workspace.workspace)
  }

  stop(): void {
    this.stopped = true
    for (const cancel of this.known.values()) cancel?.()
    this.known.clear()
  }

  private planProbe(workspace: string): void {
    if (this.stopped || this.known.get(workspace) !== undefined) return
    const cancel = this.deps.setTimer(() => {
      this.known.set(workspace, undefined)
      this.deps.store.resumeWorkspace(workspace).then(
        () => this.deps.resumed(),
        (error: unknown) => {
          this.deps.logger.error({ workspace, err: { message: (error as Error).message } }, 'could not resume a paused workspace; trying again later')
          this.known.delete(workspace)
          this.planProbe(workspace)
        }
      )
    }, this.deps.probeMs)
    this.known.set(workspace, cancel)
  }
}
