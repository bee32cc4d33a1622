import type { QueueStatus, WorkspaceStatus } from './queue-store'

type WaitingRow = { workspace: string; depth: number | string; bytes: number | string | null; oldest: number | string | null }
type DeadRow = { workspace: string; count: number | string }
type PausedRow = { workspace: string; reason: string }

/** The store's status from its three per-workspace queries (waiting, dead letters, paused), sorted by workspace. */
export function buildWorkspaceStatus(waiting: WaitingRow[], dead: DeadRow[], paused: PausedRow[], now: number): QueueStatus {
  const byName = new Map<string, WorkspaceStatus>()
  const of = (workspace: string): WorkspaceStatus => {
    let status = byName.get(workspace)
    if (status === undefined) {
      status = { workspace, depth: 0, bytes: 0, oldestAgeMs: 0, deadLetters: 0, paused: false }
      byName.set(workspace, status)
    }
    return status
  }
  for (const row of waiting) {
    const status = of(row.workspace)
    status.depth = Number(row.depth)
    status.bytes = Number(row.bytes ?? 0)
    status.oldestAgeMs = row.oldest === null ? 0 : Math.max(0, now - Number(row.oldest))
  }
  for (const row of dead) of(row.workspace).deadLetters = Number(row.count)
  for (const row of paused) {
    const status = of(row.workspace)
    status.paused = true
    status.pausedReason = row.reason
  }
  const workspaces = [...byName.values()].sort((a, b) => (a.workspace < b.workspace ? -1 : a.workspace > b.workspace ? 1 : 0))
  const sum = (pick: (status: WorkspaceStatus) => number) => workspaces.reduce((total, status) => total + pick(status), 0)
  return { workspaces, depth: sum((s) => s.depth), bytes: sum((s) => s.bytes), deadLetters: sum((s) => s.deadLetters) }
}
