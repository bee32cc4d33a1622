/**
 * What is wrong with each workspace right now, kept apart from how it is shown: `/readyz`
 * renders it (and may choose what a stranger sees), the doors and the registry only
 * report into it.
 */

/** Koala refuses this workspace's key or URL (401, 403, 404, ...). */
export type KoalaRefusal = { status: number; since: string; refusals: number }

/** This workspace serves a mapping that is not what its file says now; `error`: why its file last failed to load. */
export type StaleMapping = { reason: 'file missing' | 'file invalid'; file: string; since: string; error?: string }

export type WorkspaceProblem = { workspace: string; koala?: KoalaRefusal; mapping?: StaleMapping }

/** A refusal is logged at most this often per workspace: loud, without flooding the log. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000

export class WorkspaceHealth {
  private readonly refused = new Map<string, KoalaRefusal & { loggedAt: number }>()
  private readonly stale = new Map<string, StaleMapping>()
  private readonly loadErrors = new Map<string, string>()

  constructor(private readonly now: () => number = Date.now) {}

  /** Records that Koala refused `workspace`'s configuration; true when this one should be logged (once per minute per workspace). */
  koalaRefused(workspace: string, status: number): boolean {
    const at = this.now()
    const known = this.refused.get(workspace)
    if (known === undefined) {
      this.refused.set(workspace, { status, since: new Date(at).toISOString(), refusals: 1, loggedAt: at })
      return true
    }
    known.status = status
    known.refusals++
    if (at - known.loggedAt < REFUSAL_LOG_INTERVAL_MS) return false
    known.loggedAt = at
    return true
  }

  /** Koala took a request of `workspace`: whatever it refused before is fixed. */
  koalaAccepted(workspace: string): void {
    if (this.refused.size > 0) this.refused.delete(workspace)
  }

  /** `workspace` keeps serving its last good mapping because its file is gone or no longer loads. */
  mappingStale(workspace: string, reason: StaleMapping['reason'], file: string): void {
    const known = this.stale.get(workspace)
    if (known?.reason === reason) return
    // A gone file has no load error of its own; one from an edit before the delete would mislead.
    if (reason === 'file missing') this.loadErrors.delete(workspace)
    this.stale.set(workspace, { reason, file, since: new Date(this.now()).toISOString() })
  }

  /** `workspace`'s file failed to load (the newest failure is the one shown). */
  mappingLoadFailed(workspace: string, error: string): void {
    this.loadErrors.set(workspace, error)
  }

  /** `workspace` serves what its file says again. */
  mappingFresh(workspace: string): void {
    this.stale.delete(workspace)
    this.loadErrors.delete(workspace)
  }

  /** Whether `workspace` serves a last good version instead of its file. */
  mappingIsStale(workspace: string): boolean {
    return this.stale.has(workspace)
  }

  /** Every workspace with a problem, by name. */
  problems(): WorkspaceProblem[] {
    const names = new Set([...this.refused.keys(), ...this.stale.keys()])
    return [...names].sort().map((workspace) => {
      const problem: WorkspaceProblem = { workspace }
      const refusal = this.refused.get(workspace)
      if (refusal !== undefined) problem.koala = { status: refusal.status, since: refusal.since, refusals: refusal.refusals }
      const stale = this.stale.get(workspace)
      if (stale !== undefined) {
        problem.mapping = { ...stale }
        const error = this.loadErrors.get(workspace)
        if (error !== undefined && stale.reason === 'file invalid') problem.mapping.error = error
      }
      return problem
    })
  }
}
