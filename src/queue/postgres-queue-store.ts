import type { Pool } from 'pg'
import { AdapterError } from '../errors'
import { admitAppend } from './append-limits'
import { GroupCommit } from './group-commit'
import { requestPrefix } from './leased-request'
import { clockAt, DB_NOW, postgresPool } from './postgres-connection'
import { queueWriteFailed, refusedData } from './queue-errors'
import { endpointOfKey, type DeadLetter, type LeasedPerson, type LeaseOptions, type PersonKey, type QueueCounters, type QueueEntryInput, type QueueStatus, type QueueStore } from './queue-store'
import { KINDS_PER_REQUEST, QueueStoreOptions, type QueueStoreSettings } from './queue-store-options'
import { ENTRY_COLUMNS, toDeadLetter, toQueuedEntry, type DeadLetterRow, type QueuedEntryRow } from './queued-entry-row'
import { ensurePostgresSchema, postgresTables, type PostgresTables } from './postgres-schema'
import { endLease, moveToDeadLetters, putBackDeadLetters, removeEntries, setTotals, sweepBatch, writeHoldingTotals } from './postgres-writes'
import { buildWorkspaceStatus } from './workspace-status'

type Append = { workspace: string; entries: readonly QueueEntryInput[] }

/**
 * The shared store: several replicas on one PostgreSQL. Every write transaction first locks
 * the one `totals` row, which serialises the writes (appends, settling) of all replicas:
 * the limits are checked against exact totals, and a person's row is never dropped while
 * another transaction adds an entry for that person. Leasing takes no such lock: it claims
 * people rows with FOR UPDATE SKIP LOCKED in one statement, so two replicas never hold the
 * same person.
 */
export class PostgresQueueStore implements QueueStore {
  readonly kind = 'postgres'
  private readonly t: PostgresTables
  private readonly appends: GroupCommit<Append, number[]>
  private appendsCommitted = 0
  private takeovers = 0

  private constructor(
    private readonly pool: Pool,
    private readonly settings: QueueStoreSettings,
    /** A clock was given (tests): times come from it, not from the database. */
    private readonly givenClock: boolean
  ) {
    this.t = postgresTables(settings.schema)
    this.appends = new GroupCommit((group) => this.commitAppends(group), settings.groupWindowMs)
  }

  /** Connects and creates the tables when missing (unless `create` is false); CONFIG_INVALID when the database cannot be reached or has no tables to use. */
  static async open(url: string, options: QueueStoreOptions = {}): Promise<PostgresQueueStore> {
    const settings = QueueStoreOptions.parse(options)
    const pool = postgresPool(url, settings)
    try {
      const client = await pool.connect()
      try {
        await ensurePostgresSchema(client, settings.schema, settings.create)
      } finally {
        client.release()
      }
    } catch (error) {
      await pool.end().catch(() => undefined)
      if (error instanceof AdapterError) throw error
      const code = (error as { code?: unknown }).code
      throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: cannot use the queue's PostgreSQL database: ${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`)
    }
    return new PostgresQueueStore(pool, settings, options.now !== undefined)
  }

  /** The given clock's time, or null: SQL then reads the database's clock (clockAt). */
  private clock(): number | null {
    return this.givenClock ? this.settings.now() : null
  }

  get counters(): QueueCounters {
    return { commits: this.appends.commits, appends: this.appendsCommitted, takeovers: this.takeovers }
  }

  async append(workspace: string, entries: readonly QueueEntryInput[]): Promise<number[]> {
    if (entries.length === 0) return []
    return this.appends.submit({ workspace, entries })
  }

  /**
   * One bad request (a value PostgreSQL refuses) fails its whole group's transaction; then
   * each is committed on its own, so only it is refused and the others sharing the commit
   * are stored, not answered 503 for as long as the bad one is sent again.
   */
  private async commitAppends(group: Append[]): Promise<Array<number[] | Error>> {
    try {
      return await this.commitTogether(group)
    } catch (error) {
      if (group.length === 1 || !refusedData(error)) throw error
      const outcomes: Array<number[] | Error> = []
      for (const append of group) outcomes.push(await this.commitTogether([append]).then(([outcome]) => outcome, (alone: Error) => alone))
      return outcomes
    }
  }

  private async commitTogether(group: Append[]): Promise<Array<number[] | Error>> {
    const outcomes: Array<number[] | Error> = []
    const columns: unknown[][] = [[], [], [], [], [], [], [], []]
    const counts: number[] = []
    await writeHoldingTotals(this.pool, this.t, 'a write', async (client, totals) => {
      for (const { workspace, entries } of group) {
        const sizes = admitAppend(entries, totals, this.settings)
        outcomes.push(sizes instanceof Error ? sizes : [])
        if (sizes instanceof Error) continue
        entries.forEach((entry, i) => {
          const row = [workspace, endpointOfKey(entry.key), entry.key, entry.kind, entry.text, entry.bodyFields ?? null, entry.messageId ?? null, sizes[i]]
          row.forEach((value, column) => columns[column].push(value))
        })
        counts.push(entries.length)
      }
      if (counts.length === 0) return
      const now = this.clock()
      // One statement for the whole group; ids come from the sequence in row order.
      const inserted = await client.query<{ id: string; workspace: string; who: string }>(
        `INSERT INTO ${this.t.entries} (workspace, endpoint, who, kind, entry, body_fields, message_id, bytes, enqueued_at)
         SELECT *, ${clockAt(9)} FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])
         RETURNING id, workspace, who`,
        [...columns, now]
      )
      await client.query(
        `INSERT INTO ${this.t.people} (workspace, who, first_id, next_attempt_at)
         SELECT workspace, who, MIN(id), ${clockAt(4)} FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(workspace, who, id) GROUP BY workspace, who
         ON CONFLICT (workspace, who) DO NOTHING`,
        [inserted.rows.map((row) => row.workspace), inserted.rows.map((row) => row.who), inserted.rows.map((row) => row.id), now]
      )
      await client.query(`UPDATE ${this.t.totals} SET entries = $1, bytes = $2`, [totals.entries, totals.bytes])
      const ids = inserted.rows.map((row) => Number(row.id)).sort((a, b) => a - b)
      let next = 0
      for (let i = 0; i < outcomes.length; i++) {
        const outcome = outcomes[i]
        if (outcome instanceof Error) continue
        const count = counts.shift()!
        outcomes[i] = ids.slice(next, next + count)
        next += count
      }
    })
    this.appendsCommitted += outcomes.filter((outcome) => !(outcome instanceof Error)).length
    return outcomes
  }

  async lease(owner: string, options: LeaseOptions): Promise<LeasedPerson[]> {
    const claimed = await this.query<{ workspace: string; who: string; first_id: string; expires_at: string; previous: string | null }>(
      'a lease',
      `WITH clock AS (SELECT ${clockAt(1)} AS now), picked AS (
         SELECT workspace, who, owner AS previous FROM ${this.t.people} p CROSS JOIN clock
         WHERE next_attempt_at <= clock.now AND (owner IS NULL OR expires_at <= clock.now)
           AND NOT EXISTS (SELECT 1 FROM ${this.t.paused} z WHERE z.workspace = p.workspace)
           AND ($7::text[] IS NULL OR p.workspace = ANY($7::text[]))
           AND ((SELECT enqueued_at FROM ${this.t.entries} f WHERE f.id = p.first_id) <= clock.now - $5
             OR EXISTS (SELECT 1 FROM ${this.t.entries} e WHERE e.workspace = p.workspace AND e.who = p.who GROUP BY e.kind HAVING COUNT(*) >= $6))
         ORDER BY first_id LIMIT $2 FOR UPDATE OF p SKIP LOCKED)
       UPDATE ${this.t.people} p SET owner = $3, expires_at = (SELECT now FROM clock) + $4 FROM picked
       WHERE p.workspace = picked.workspace AND p.who = picked.who
       RETURNING p.workspace, p.who, p.first_id, p.expires_at, picked.previous`,
      [options.now ?? this.clock(), options.maxPeople, owner, options.leaseMs, options.lingerMs ?? 0, options.maxPerKind, options.workspaces ?? null]
    )
    if (claimed.length === 0) return []
    claimed.sort((a, b) => Number(a.first_id) - Number(b.first_id))
    const rows = await this.query<QueuedEntryRow>(
      'a lease',
      `SELECT e.* FROM unnest($1::text[], $2::text[]) AS p(workspace, who)
       CROSS JOIN LATERAL (SELECT ${ENTRY_COLUMNS} FROM ${this.t.entries} e WHERE e.workspace = p.workspace AND e.who = p.who ORDER BY id LIMIT $3) e
       ORDER BY e.id`,
      [claimed.map((row) => row.workspace), claimed.map((row) => row.who), options.maxPerKind * KINDS_PER_REQUEST]
    )
    const byPerson = new Map<string, QueuedEntryRow[]>()
    for (const row of rows) {
      const key = JSON.stringify([row.workspace, row.who])
      const list = byPerson.get(key)
      if (list === undefined) byPerson.set(key, [row])
      else list.push(row)
    }
    const leased: LeasedPerson[] = []
    for (const person of claimed) {
      const entries = byPerson.get(JSON.stringify([person.workspace, person.who]))
      // Settled by a stale owner between the two statements: nothing left to send.
      if (entries === undefined) continue
      const takenOver = person.previous !== null
      if (takenOver) this.takeovers++
      const prefix = requestPrefix(entries.map(toQueuedEntry), options.maxPerKind)
      leased.push({ workspace: person.workspace, endpoint: endpointOfKey(person.who), key: person.who, entries: prefix, expiresAt: Number(person.expires_at), takenOver })
    }
    return leased
  }

  async ack(owner: string, ids: readonly number[], person?: PersonKey): Promise<void> {
    await writeHoldingTotals(this.pool, this.t, 'an acknowledgement', async (client, totals) => {
      await removeEntries(client, this.t, totals, owner, ids)
      if (person !== undefined) await endLease(client, this.t, owner, person)
    })
  }

  async retryLater(owner: string, ids: readonly number[], delayMs: number, reason: string, person?: PersonKey): Promise<void> {
    await writeHoldingTotals(this.pool, this.t, 'a retry', async (client) => {
      await client.query(`UPDATE ${this.t.entries} SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])`, [ids, reason])
      // A stale owner (its lease taken over) does not delay the new owner's person.
      await client.query(
        `UPDATE ${this.t.people} p SET next_attempt_at = ${clockAt(4)} + $2, owner = NULL, expires_at = NULL
         FROM (SELECT DISTINCT workspace, who FROM ${this.t.entries} WHERE id = ANY($1::bigint[])) x
         WHERE p.workspace = x.workspace AND p.who = x.who AND (p.owner = $3 OR p.owner IS NULL)`,
        [ids, delayMs, owner, this.clock()]
      )
      if (person !== undefined) await endLease(client, this.t, owner, person)
    })
  }

  async deadLetter(owner: string, ids: readonly number[], reason: string, person?: PersonKey): Promise<void> {
    await writeHoldingTotals(this.pool, this.t, 'dead letters', async (client, totals) => {
      await moveToDeadLetters(client, this.t, ids, reason, this.clock())
      await removeEntries(client, this.t, totals, owner, ids)
      if (person !== undefined) await endLease(client, this.t, owner, person)
    })
  }

  async sweepExpired(maxAgeMs: number): Promise<number> {
    const limit = this.settings.sweepBatch
    let swept = 0
    let batch = 0
    // One short transaction per batch: the totals row every write waits for is never held for a whole backlog.
    do {
      await writeHoldingTotals(this.pool, this.t, 'dead letters', async (client, totals) => {
        batch = await sweepBatch(client, this.t, totals, { maxAgeMs, now: this.clock(), limit })
      })
      swept += batch
    } while (batch === limit)
    return swept
  }

  async pauseWorkspace(workspace: string, reason: string): Promise<void> {
    await this.query(
      'a pause',
      `INSERT INTO ${this.t.paused} (workspace, reason, paused_at) VALUES ($1, $2, ${clockAt(3)})
       ON CONFLICT (workspace) DO UPDATE SET reason = excluded.reason, paused_at = excluded.paused_at`,
      [workspace, reason, this.clock()]
    )
  }

  async resumeWorkspace(workspace: string): Promise<void> {
    await this.query('a resume', `DELETE FROM ${this.t.paused} WHERE workspace = $1`, [workspace])
  }

  async status(): Promise<QueueStatus> {
    const [waiting, dead, paused, [clock]] = await Promise.all([
      this.query('a status', `SELECT workspace, COUNT(*) AS depth, SUM(bytes) AS bytes, MIN(enqueued_at) AS oldest FROM ${this.t.entries} GROUP BY workspace`),
      this.query('a status', `SELECT workspace, COUNT(*) AS count FROM ${this.t.deadLetters} GROUP BY workspace`),
      this.query('a status', `SELECT workspace, reason FROM ${this.t.paused}`),
      this.query<{ now: string }>('a status', `SELECT ${DB_NOW} AS now`)
    ])
    return buildWorkspaceStatus(waiting as never, dead as never, paused as never, this.clock() ?? Number(clock.now))
  }

  async listDeadLetters(options: { workspace?: string; limit: number }): Promise<DeadLetter[]> {
    const rows = await this.query<DeadLetterRow>(
      'a listing',
      `SELECT entry_id AS id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes, reason, dead_at
       FROM ${this.t.deadLetters} WHERE ($1::text IS NULL OR workspace = $1) ORDER BY id LIMIT $2`,
      [options.workspace ?? null, options.limit]
    )
    return rows.map(toDeadLetter)
  }

  async retryDeadLetters(options: { workspace?: string }): Promise<number> {
    let moved = 0
    await writeHoldingTotals(this.pool, this.t, 'a retry of dead letters', async (client, totals) => {
      moved = await putBackDeadLetters(client, this.t, totals, options.workspace ?? null, this.clock())
    })
    return moved
  }

  async purge(options: { workspace: string }): Promise<{ entries: number; deadLetters: number }> {
    const purged = { entries: 0, deadLetters: 0 }
    await writeHoldingTotals(this.pool, this.t, 'a purge', async (client, totals) => {
      const gone = await client.query<{ bytes: number }>(`DELETE FROM ${this.t.entries} WHERE workspace = $1 RETURNING bytes`, [options.workspace])
      await client.query(`DELETE FROM ${this.t.people} WHERE workspace = $1`, [options.workspace])
      const dead = await client.query(`DELETE FROM ${this.t.deadLetters} WHERE workspace = $1`, [options.workspace])
      await setTotals(client, this.t, totals, -gone.rows.length, -gone.rows.reduce((sum, row) => sum + row.bytes, 0))
      purged.entries = gone.rows.length
      purged.deadLetters = dead.rowCount ?? 0
    })
    return purged
  }

  async close(): Promise<void> {
    await this.appends.drain()
    await this.pool.end()
  }

  /** One statement on its own; what the database refuses becomes QUEUE_WRITE_FAILED. */
  private async query<Row extends object = Record<string, unknown>>(what: string, sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, params)).rows
    } catch (error) {
      throw queueWriteFailed(what, error)
    }
  }
}
