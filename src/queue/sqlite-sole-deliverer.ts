import type { SqliteConnection } from './sqlite-connection'
import { hostname } from 'node:os'
import { AdapterError } from '../errors'

/**
 * A deliverer on another host (a container on a shared volume, whose pid means nothing
 * here) is taken for alive this long after its last lease; one that stops cleanly clears
 * its claim at once, so only a killed one makes the next wait.
 */
export const SOLE_DELIVERER_STALE_MS = 120_000
/** The claim's heartbeat is written at most this often (with a lease, in its transaction). */
export const SOLE_DELIVERER_HEARTBEAT_MS = 10_000

const SCHEMA = 'CREATE TABLE IF NOT EXISTS queue_deliverer (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, pid INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL)'
type Claim = { host: string; pid: number; heartbeat_at: number }

/**
 * Makes this process the one deliverer of a SQLite queue file, or throws CONFIG_INVALID
 * naming the live one: two would both end each other's leases and send one person's
 * entries at once. Ends the leases a dead deliverer left (their owner is gone, so nothing
 * waits QUEUE_LEASE_MS) and returns how many.
 */
export function claimSoleDelivery({ db, prepare }: SqliteConnection, file: string, now: number): number {
  db.exec(SCHEMA)
  return db
    .transaction(() => {
      const claim = prepare('SELECT host, pid, heartbeat_at FROM queue_deliverer WHERE id = 1').get() as Claim | undefined
      if (claim !== undefined && isAlive(claim, now)) {
        const where = claim.host === hostname() ? '' : ` on ${claim.host}`
        throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: another service (pid ${claim.pid}${where}) delivers from the SQLite queue ${file}; one service per SQLite file (replicas share a PostgreSQL queue)`)
      }
      prepare('INSERT OR REPLACE INTO queue_deliverer (id, host, pid, heartbeat_at) VALUES (1, ?, ?, ?)').run(hostname(), process.pid, now)
      return prepare('UPDATE queue_people SET owner = NULL, expires_at = NULL WHERE owner IS NOT NULL').run().changes
    })
    .immediate()
}

/** Says this deliverer is alive (inside a lease's transaction). */
export function beatSoleDelivery(prepare: SqliteConnection['prepare'], now: number): void {
  prepare('UPDATE queue_deliverer SET heartbeat_at = ? WHERE id = 1 AND host = ? AND pid = ?').run(now, hostname(), process.pid)
}

/** Gives the file up on a clean stop, so the next service need not wait for the claim to go stale. */
export function releaseSoleDelivery(prepare: SqliteConnection['prepare']): void {
  prepare('DELETE FROM queue_deliverer WHERE id = 1 AND host = ? AND pid = ?').run(hostname(), process.pid)
}

function isAlive(claim: Claim, now: number): boolean {
  if (claim.host !== hostname()) return now - claim.heartbeat_at < SOLE_DELIVERER_STALE_MS
  if (claim.pid === process.pid) return false
  try {
    process.kill(claim.pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists (another user's).
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
