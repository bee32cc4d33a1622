import type { DeadLetter } from './queue-store'
import { toDeadLetter, type DeadLetterRow } from './queued-entry-row'
import type { SqliteConnection } from './sqlite-connection'

type Prepare = SqliteConnection['prepare']

/** Dead letters of one workspace, or of all when it is null. */
const OF_WORKSPACE = '(@workspace IS NULL OR workspace = @workspace)'

/** Copies the entries `where` selects to the dead letters with `reason` (inside the caller's transaction; it deletes them after). */
export function copyToDeadLetters(prepare: Prepare, where: string, params: Record<string, unknown>, now: number): void {
  prepare(`INSERT INTO queue_dead_letters (entry_id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, reason, dead_at)
    SELECT id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, @reason, @now FROM queue_entries WHERE ${where} ORDER BY id`).run({ ...params, now })
}

/** Dead letters oldest first, under their first id. */
export function listDeadLetters(prepare: Prepare, options: { workspace?: string; limit: number }): DeadLetter[] {
  const rows = prepare(`SELECT entry_id AS id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, reason, dead_at
    FROM queue_dead_letters WHERE ${OF_WORKSPACE} ORDER BY id LIMIT @limit`).all({ workspace: options.workspace ?? null, limit: options.limit }) as DeadLetterRow[]
  return rows.map(toDeadLetter)
}

/**
 * Moves dead letters back to the queue (inside the caller's transaction) and returns how many.
 * Back under their first id: each goes back to its place in its person's order. Their age
 * restarts, or the sweep would take them again at once.
 */
export function restoreDeadLetters(prepare: Prepare, workspace: string | undefined, now: number): number {
  const params = { workspace: workspace ?? null, now }
  const moved = prepare(`INSERT INTO queue_entries (id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes)
    SELECT entry_id, workspace, endpoint, who, kind, entry, body_fields, message_id, @now, 0, bytes FROM queue_dead_letters WHERE ${OF_WORKSPACE} ORDER BY id`).run(params).changes
  prepare(`INSERT INTO queue_people (workspace, who, first_id, next_attempt_at)
    SELECT workspace, who, MIN(entry_id), @now FROM queue_dead_letters WHERE ${OF_WORKSPACE} GROUP BY workspace, who
    ON CONFLICT (workspace, who) DO UPDATE SET first_id = MIN(first_id, excluded.first_id)`).run(params)
  prepare(`UPDATE queue_totals SET entries = entries + (SELECT COUNT(*) FROM queue_dead_letters WHERE ${OF_WORKSPACE}),
    bytes = bytes + (SELECT COALESCE(SUM(bytes), 0) FROM queue_dead_letters WHERE ${OF_WORKSPACE})`).run(params)
  prepare(`DELETE FROM queue_dead_letters WHERE ${OF_WORKSPACE}`).run(params)
  return moved
}
