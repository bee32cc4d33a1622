import type { Pool, PoolClient } from 'pg'
import { AdapterError } from '../errors'
import type { PostgresTables } from './postgres-schema'
import { queueWriteFailed } from './queue-errors'

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
export async function moveToDeadLetters(client: PoolClient, t: PostgresTables, ids: readonly number[], reason: string, now: number): Promise<void> {
  await client.query(
    `INSERT INTO ${t.deadLetters} (entry_id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, reason, dead_at)
     SELECT id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, $2, $3 FROM ${t.entries}
     WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids, reason, now]
  )
}

/** Deletes entries, then updates their people: gone when empty, else their new oldest entry, and `owner`'s lease (null: any lease) ended. */
export async function removeEntries(client: PoolClient, t: PostgresTables, totals: Totals, owner: string | null, ids: readonly number[]): Promise<void> {
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
       owner = CASE WHEN $3::text IS NULL OR p.owner = $3 THEN NULL ELSE p.owner END,
       expires_at = CASE WHEN $3::text IS NULL OR p.owner = $3 THEN NULL ELSE p.expires_at END
     FROM (SELECT DISTINCT workspace, who FROM unnest($1::text[], $2::text[]) AS y(workspace, who)) x
     WHERE p.workspace = x.workspace AND p.who = x.who`,
    [...people, owner]
  )
}

/** Adds to the totals (negative to subtract) and writes them. */
export async function setTotals(client: PoolClient, t: PostgresTables, totals: Totals, entries: number, bytes: number): Promise<void> {
  totals.entries += entries
  totals.bytes += bytes
  await client.query(`UPDATE ${t.totals} SET entries = $1, bytes = $2`, [totals.entries, totals.bytes])
}
