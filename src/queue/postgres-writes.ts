import type { Pool, PoolClient } from 'pg'
import { AdapterError } from '../errors'
import { clockAt } from './postgres-connection'
import type { PostgresTables } from './postgres-schema'
import { queueWriteFailed } from './queue-errors'
import type { PersonKey } from './queue-store'

/** The totals row as a write transaction read it (and keeps it, as it changes it). */
export type Totals = { entries: number; bytes: number }

/**
 * Runs `work` in one transaction that first locks the totals row, so the writes of all
 * replicas run one at a time (PostgresQueueStore says why); a refusal becomes
 * QUEUE_WRITE_FAILED, an AdapterError of `work` passes as it is.
 */
export async function writeHoldingTotals(pool: Pool, t: PostgresTables, what: string, work: (client: PoolClient, totals: Totals) => Promise<void>): Promise<void> {
  let client: PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    throw queueWriteFailed(what, error)
  }
  let broken: unknown
  try {
    await client.query('BEGIN')
    const row = (await client.query<{ entries: string; bytes: string }>(`SELECT entries, bytes FROM ${t.totals} WHERE id = 1 FOR UPDATE`)).rows[0]
    await work(client, { entries: Number(row.entries), bytes: Number(row.bytes) })
    await client.query('COMMIT')
  } catch (error) {
    // A connection that cannot even roll back is dropped from the pool, not reused.
    await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError))
    throw error instanceof AdapterError ? error : queueWriteFailed(what, error)
  } finally {
    client.release(broken as Error | undefined)
  }
}

/** Copies entries to the dead letters with `reason`, oldest first (removeEntries then deletes them). */
export async function moveToDeadLetters(client: PoolClient, t: PostgresTables, ids: readonly number[], reason: string, now: number | null): Promise<void> {
  await client.query(
    `INSERT INTO ${t.deadLetters} (entry_id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, reason, dead_at)
     SELECT id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, $2, ${clockAt(3)} FROM ${t.entries}
     WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids, reason, now]
  )
}

/**
 * Deletes entries, then updates their people: gone when empty, else their new oldest entry,
 * and `owner`'s lease ended (null, the sweep: only an expired lease, at `now`; a live one is
 * another replica's, delivering).
 */
export async function removeEntries(client: PoolClient, t: PostgresTables, totals: Totals, owner: string | null, ids: readonly number[], now: number | null = null): Promise<void> {
  const gone = await client.query<{ workspace: string; who: string; bytes: number }>(`DELETE FROM ${t.entries} WHERE id = ANY($1::bigint[]) RETURNING workspace, who, bytes`, [ids])
  if (gone.rows.length === 0) return
  await setTotals(client, t, totals, -gone.rows.length, -gone.rows.reduce((sum, row) => sum + row.bytes, 0))
  const people = [gone.rows.map((row) => row.workspace), gone.rows.map((row) => row.who)]
  await client.query(
    `DELETE FROM ${t.people} p USING unnest($1::text[], $2::text[]) AS x(workspace, who)
     WHERE p.workspace = x.workspace AND p.who = x.who AND NOT EXISTS (SELECT 1 FROM ${t.entries} e WHERE e.workspace = p.workspace AND e.who = p.who)`,
    people
  )
  await client.query(
    `UPDATE ${t.people} p SET first_id = (SELECT MIN(id) FROM ${t.entries} e WHERE e.workspace = p.workspace AND e.who = p.who),
       owner = CASE WHEN p.owner = $3 OR ($3::text IS NULL AND p.expires_at <= ${clockAt(4)}) THEN NULL ELSE p.owner END,
       expires_at = CASE WHEN p.owner = $3 OR ($3::text IS NULL AND p.expires_at <= ${clockAt(4)}) THEN NULL ELSE p.expires_at END
     FROM (SELECT DISTINCT workspace, who FROM unnest($1::text[], $2::text[]) AS y(workspace, who)) x
     WHERE p.workspace = x.workspace AND p.who = x.who`,
    [...people, owner, now]
  )
}

/**
 * Ends `owner`'s lease on `person`, if it still holds it: a settle whose entries a stale
 * owner already settled finds no rows to end the lease by, and would leave the person held
 * until the lease expires.
 */
export async function endLease(client: PoolClient, t: PostgresTables, owner: string, person: PersonKey): Promise<void> {
  await client.query(`UPDATE ${t.people} SET owner = NULL, expires_at = NULL WHERE workspace = $1 AND who = $2 AND owner = $3`, [person.workspace, person.key, owner])
}

/**
 * Moves up to `limit` entries older than `maxAgeMs` whose person no live lease holds to the
 * dead letters; returns how many. Their people rows are locked, skipping those a lease is
 * claiming this moment, so no replica leases a person while its entries move.
 */
export async function sweepBatch(client: PoolClient, t: PostgresTables, totals: Totals, sweep: { maxAgeMs: number; now: number | null; limit: number }): Promise<number> {
  const expired = await client.query<{ id: string }>(
    `WITH clock AS (SELECT ${clockAt(1)} AS now)
     SELECT e.id FROM ${t.entries} e JOIN ${t.people} p ON p.workspace = e.workspace AND p.who = e.who CROSS JOIN clock
     WHERE e.enqueued_at < clock.now - $2 AND (p.owner IS NULL OR p.expires_at <= clock.now)
     ORDER BY e.id LIMIT $3 FOR UPDATE OF p SKIP LOCKED`,
    [sweep.now, sweep.maxAgeMs, sweep.limit]
  )
  const ids = expired.rows.map((row) => Number(row.id))
  if (ids.length === 0) return 0
  await moveToDeadLetters(client, t, ids, `expired: waited over ${sweep.maxAgeMs} ms`, sweep.now)
  await removeEntries(client, t, totals, null, ids, sweep.now)
  return ids.length
}

/** Adds to the totals (negative to subtract) and writes them. */
export async function setTotals(client: PoolClient, t: PostgresTables, totals: Totals, entries: number, bytes: number): Promise<void> {
  totals.entries += entries
  totals.bytes += bytes
  await client.query(`UPDATE ${t.totals} SET entries = $1, bytes = $2`, [totals.entries, totals.bytes])
}

/** Puts dead letters (of `workspace`, or all) back in the queue; returns how many. */
export async function putBackDeadLetters(client: PoolClient, t: PostgresTables, totals: Totals, workspace: string | null, now: number | null): Promise<number> {
  // Back under their first id: each goes back to its place in its person's order. The age restarts, or the sweep would take them at once.
  const back = await client.query<{ workspace: string; who: string; entry_id: string; bytes: number }>(
    `WITH gone AS (DELETE FROM ${t.deadLetters} WHERE ($1::text IS NULL OR workspace = $1) RETURNING *)
     INSERT INTO ${t.entries} (id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes)
     SELECT entry_id, workspace, endpoint, who, kind, entry, body_fields, message_id, ${clockAt(2)}, 0, bytes FROM gone
     RETURNING workspace, who, id AS entry_id, bytes`,
    [workspace, now]
  )
  const moved = back.rows.length
  if (moved === 0) return 0
  await client.query(
    `INSERT INTO ${t.people} (workspace, who, first_id, next_attempt_at)
     SELECT workspace, who, MIN(id), ${clockAt(4)} FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(workspace, who, id) GROUP BY workspace, who
     ON CONFLICT (workspace, who) DO UPDATE SET first_id = LEAST(${t.people}.first_id, excluded.first_id)`,
    [back.rows.map((row) => row.workspace), back.rows.map((row) => row.who), back.rows.map((row) => row.entry_id), now]
  )
  await setTotals(client, t, totals, moved, back.rows.reduce((sum, row) => sum + row.bytes, 0))
  return moved
}
