import Database from 'better-sqlite3'
import { AdapterError } from '../errors'
import { admitAppend } from './append-limits'
import { beatSoleDelivery, claimSoleDelivery, releaseSoleDelivery, SOLE_DELIVERER_HEARTBEAT_MS } from './sqlite-sole-deliverer'
import { GroupCommit } from './group-commit'
import { openSqlite, type SqliteConnection } from './sqlite-connection'
import { requestPrefix } from './leased-request'
import { queueWriteFailed } from './queue-errors'
import { endpointOfKey, type DeadLetter, type LeasedPerson, type LeaseOptions, type PersonKey, type QueueCounters, type QueueEntryInput, type QueueStatus, type QueueStore } from './queue-store'
import { KINDS_PER_REQUEST, QueueStoreOptions, type QueueStoreSettings } from './queue-store-options'
import { ENTRY_COLUMNS, toQueuedEntry, type QueuedEntryRow } from './queued-entry-row'
import { copyToDeadLetters, listDeadLetters, restoreDeadLetters } from './sqlite-dead-letters'
import { SQLITE_SCHEMA } from './sqlite-schema'
import { buildWorkspaceStatus } from './workspace-status'

type Append = { workspace: string; entries: readonly QueueEntryInput[] }
type Person = { workspace: string; who: string }
/** Ids as one JSON parameter: `id IN (SELECT value FROM json_each(?))` takes any number of them. */
const IDS = 'SELECT value FROM json_each(@ids)'
/**
 * A person's linger is over: its oldest entry waited long enough, or it has a full request's
 * worth of one kind. The count runs only for people still lingering, who hold what arrived
 * within QUEUE_LINGER_MS, so it stays small.
 */
const LINGERED = `((SELECT enqueued_at FROM queue_entries f WHERE f.id = p.first_id) <= @lingeredBefore
  OR EXISTS (SELECT 1 FROM queue_entries e WHERE e.workspace = p.workspace AND e.who = p.who GROUP BY e.kind HAVING COUNT(*) >= @full))`

/**
 * The embedded store: one SQLite file, one delivering process (sqlite-sole-deliverer.ts).
 * WAL; a group of appends is one transaction, on disk (synchronous=FULL) when it returns.
 * better-sqlite3 is synchronous: a commit holds the event loop for its fsync, and the
 * requests read meanwhile form the next group.
 */
export class SqliteQueueStore implements QueueStore {
  readonly kind = 'sqlite'
  private readonly db: Database.Database
  /** Each SQL text prepared once (sqlite-connection.ts); preparing on every call also cost 7% of the queue door's CPU (profiled). */
  private readonly prepare: SqliteConnection['prepare']
  private readonly settings: QueueStoreSettings
  private readonly appends: GroupCommit<Append, number[]>
  private readonly insertEntry: Database.Statement
  private readonly insertPerson: Database.Statement
  private appendsCommitted = 0
  private takeovers = 0
  /** Leases a killed run left, ended at open (soleDeliverer). */
  orphansReleased = 0
  /** When this deliverer last said it is alive (soleDeliverer). */
  private lastBeat = 0

  constructor(readonly file: string, options: QueueStoreOptions = {}) {
    this.settings = QueueStoreOptions.parse(options)
    let connection: SqliteConnection | undefined
    try {
      connection = openSqlite(file)
      this.db = connection.db
      this.prepare = connection.prepare
      // Only an append's commit is a promise to a sender, so only it waits for the disk (FULL, below);
      // a lease, an acknowledgement or a retry lost to a power cut is redone, which message_id makes harmless.
      this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000')
      this.db.exec(SQLITE_SCHEMA)
      if (this.settings.soleDeliverer) this.orphansReleased = claimSoleDelivery(connection, file, this.settings.now())
    } catch (error) {
      if (connection?.db.open) connection.db.close() // a file refused after opening (a live deliverer, a bad schema) is not held open
      if (error instanceof AdapterError) throw error
      throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: cannot open the SQLite queue ${file}: ${error instanceof Error ? error.message : String(error)}`)
    }
    this.insertEntry = this.prepare(
      'INSERT INTO queue_entries (workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
    )
    this.insertPerson = this.prepare('INSERT INTO queue_people (workspace, who, first_id, next_attempt_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
    this.appends = new GroupCommit((group) => this.commitAppends(group), this.settings.groupWindowMs)
  }

  get counters(): QueueCounters {
    return { commits: this.appends.commits, appends: this.appendsCommitted, takeovers: this.takeovers }
  }

  async append(workspace: string, entries: readonly QueueEntryInput[]): Promise<number[]> {
    if (entries.length === 0) return []
    return this.appends.submit({ workspace, entries })
  }

  private commitAppends(group: Append[]): Array<number[] | Error> {
    const now = this.settings.now()
    const insert = this.insertEntry
    const person = this.insertPerson
    const outcomes: Array<number[] | Error> = []
    const commit = this.db.transaction(() => {
      outcomes.length = 0
      const totals = this.prepare('SELECT entries, bytes FROM queue_totals').get() as { entries: number; bytes: number }
      for (const { workspace, entries } of group) {
        const sizes = admitAppend(entries, totals, this.settings)
        if (sizes instanceof Error) {
          outcomes.push(sizes)
          continue
        }
        outcomes.push(
          entries.map((entry, i) => {
            const id = Number(insert.run(workspace, endpointOfKey(entry.key), entry.key, entry.kind, entry.text, entry.bodyFields ?? null, entry.messageId ?? null, now, sizes[i]).lastInsertRowid)
            person.run(workspace, entry.key, id, now)
            return id
          })
        )
      }
      this.prepare('UPDATE queue_totals SET entries = ?, bytes = ?').run(totals.entries, totals.bytes)
    })
    try {
      this.db.exec('PRAGMA synchronous = FULL')
      commit.immediate()
    } catch (error) {
      throw queueWriteFailed('a write', error)
    } finally {
      this.db.exec('PRAGMA synchronous = NORMAL')
    }
    this.appendsCommitted += outcomes.filter((outcome) => !(outcome instanceof Error)).length
    return outcomes
  }

  async lease(owner: string, options: LeaseOptions): Promise<LeasedPerson[]> {
    const now = options.now ?? this.settings.now()
    const expiresAt = now + options.leaseMs
    const due = this.prepare(`
      SELECT workspace, who, owner FROM queue_people p
      WHERE next_attempt_at <= @now AND (owner IS NULL OR expires_at <= @now)
        AND NOT EXISTS (SELECT 1 FROM queue_paused z WHERE z.workspace = p.workspace)
        AND (@workspaces IS NULL OR workspace IN (SELECT value FROM json_each(@workspaces)))
        AND ${LINGERED}
      ORDER BY first_id LIMIT @limit`)
    const take = this.prepare('UPDATE queue_people SET owner = ?, expires_at = ? WHERE workspace = ? AND who = ?')
    const oldest = this.prepare(`SELECT ${ENTRY_COLUMNS} FROM queue_entries WHERE workspace = ? AND who = ? ORDER BY id LIMIT ?`)
    const leased: LeasedPerson[] = []
    this.write('a lease', () => {
      if (this.settings.soleDeliverer && now - this.lastBeat >= SOLE_DELIVERER_HEARTBEAT_MS) {
        beatSoleDelivery(this.prepare, now)
        this.lastBeat = now
      }
      for (const person of due.all({ now, limit: options.maxPeople, lingeredBefore: now - (options.lingerMs ?? 0), full: options.maxPerKind, workspaces: jsonOrNull(options.workspaces) }) as Array<Person & { owner: string | null }>) {
        const rows = oldest.all(person.workspace, person.who, options.maxPerKind * KINDS_PER_REQUEST) as QueuedEntryRow[]
        if (rows.length === 0) {
          this.prepare('DELETE FROM queue_people WHERE workspace = ? AND who = ?').run(person.workspace, person.who)
          continue
        }
        take.run(owner, expiresAt, person.workspace, person.who)
        const takenOver = person.owner !== null
        if (takenOver) this.takeovers++
        const entries = requestPrefix(rows.map(toQueuedEntry), options.maxPerKind)
        leased.push({ workspace: person.workspace, endpoint: endpointOfKey(person.who), key: person.who, entries, expiresAt, takenOver })
      }
    })
    return leased
  }

  async ack(owner: string, ids: readonly number[], person?: PersonKey): Promise<void> {
    this.write('an acknowledgement', () => {
      this.removeEntries(owner, ids)
      this.endLease(owner, person)
    })
  }

  async retryLater(owner: string, ids: readonly number[], delayMs: number, reason: string, person?: PersonKey): Promise<void> {
    const atMs = this.settings.now() + delayMs
    this.write('a retry', () => {
      const people = this.peopleOf(ids)
      this.prepare(`UPDATE queue_entries SET attempts = attempts + 1, last_error = @reason WHERE id IN (${IDS})`).run({ ids: JSON.stringify(ids), reason })
      // A stale owner (its lease taken over) does not delay the new owner's person.
      const delay = this.prepare('UPDATE queue_people SET next_attempt_at = ?, owner = NULL, expires_at = NULL WHERE workspace = ? AND who = ? AND (owner = ? OR owner IS NULL)')
      for (const person of people) delay.run(atMs, person.workspace, person.who, owner)
      this.endLease(owner, person)
    })
  }

  async deadLetter(owner: string, ids: readonly number[], reason: string, person?: PersonKey): Promise<void> {
    this.write('dead letters', () => {
      copyToDeadLetters(this.prepare, `id IN (${IDS})`, { ids: JSON.stringify(ids), reason }, this.settings.now())
      this.removeEntries(owner, ids)
      this.endLease(owner, person)
    })
  }

  async sweepExpired(maxAgeMs: number): Promise<number> {
    const now = this.settings.now()
    const limit = this.settings.sweepBatch
    const expired = this.prepare(`SELECT e.id FROM queue_entries e JOIN queue_people p ON p.workspace = e.workspace AND p.who = e.who
      WHERE e.enqueued_at < ? AND (p.owner IS NULL OR p.expires_at <= ?) ORDER BY e.id LIMIT ?`)
    const reason = `expired: waited over ${maxAgeMs} ms`
    let swept = 0
    let batch = 0
    // One short transaction per batch: the door's appends wait for the write lock meanwhile.
    do {
      this.write('dead letters', () => {
        const ids = (expired.all(now - maxAgeMs, now, limit) as Array<{ id: number }>).map((row) => row.id)
        batch = ids.length
        if (batch === 0) return
        copyToDeadLetters(this.prepare, `id IN (${IDS})`, { ids: JSON.stringify(ids), reason }, this.settings.now())
        this.removeEntries(null, ids)
      })
      swept += batch
    } while (batch === limit)
    return swept
  }

  async pauseWorkspace(workspace: string, reason: string): Promise<void> {
    this.write('a pause', () => this.prepare('INSERT OR REPLACE INTO queue_paused (workspace, reason, paused_at) VALUES (?, ?, ?)').run(workspace, reason, this.settings.now()))
  }

  async resumeWorkspace(workspace: string): Promise<void> {
    this.write('a resume', () => this.prepare('DELETE FROM queue_paused WHERE workspace = ?').run(workspace))
  }

  async status(): Promise<QueueStatus> {
    const waiting = this.prepare('SELECT workspace, COUNT(*) AS depth, SUM(bytes) AS bytes, MIN(enqueued_at) AS oldest FROM queue_entries GROUP BY workspace').all()
    const dead = this.prepare('SELECT workspace, COUNT(*) AS count FROM queue_dead_letters GROUP BY workspace').all()
    const paused = this.prepare('SELECT workspace, reason FROM queue_paused').all()
    return buildWorkspaceStatus(waiting as never, dead as never, paused as never, this.settings.now())
  }

  async listDeadLetters(options: { workspace?: string; limit: number }): Promise<DeadLetter[]> {
    return listDeadLetters(this.prepare, options)
  }

  async retryDeadLetters(options: { workspace?: string }): Promise<number> {
    let moved = 0
    this.write('a retry of dead letters', () => (moved = restoreDeadLetters(this.prepare, options.workspace, this.settings.now())))
    return moved
  }

  async purge(options: { workspace: string }): Promise<{ entries: number; deadLetters: number }> {
    const purged = { entries: 0, deadLetters: 0 }
    this.write('a purge', () => {
      const gone = this.prepare('DELETE FROM queue_entries WHERE workspace = ? RETURNING bytes').all(options.workspace) as Array<{ bytes: number }>
      this.subtractTotals(gone)
      this.prepare('DELETE FROM queue_people WHERE workspace = ?').run(options.workspace)
      purged.entries = gone.length
      purged.deadLetters = this.prepare('DELETE FROM queue_dead_letters WHERE workspace = ?').run(options.workspace).changes
    })
    return purged
  }

  async close(): Promise<void> {
    await this.appends.drain()
    if (this.settings.soleDeliverer) releaseSoleDelivery(this.prepare)
    this.db.close()
  }

  /** Runs `work` as one immediate transaction; what SQLite refuses becomes QUEUE_WRITE_FAILED. */
  private write(what: string, work: () => void): void {
    try {
      this.db.transaction(work).immediate()
    } catch (error) {
      if (error instanceof AdapterError) throw error
      throw queueWriteFailed(what, error)
    }
  }

  private peopleOf(ids: readonly number[]): Person[] {
    return this.prepare(`SELECT DISTINCT workspace, who FROM queue_entries WHERE id IN (${IDS})`).all({ ids: JSON.stringify(ids) }) as Person[]
  }

  /** Deletes entries, then updates their people: gone when empty, else their new oldest entry, and `owner`'s lease (null: any lease) ended. */
  private removeEntries(owner: string | null, ids: readonly number[]): void {
    const people = this.peopleOf(ids)
    this.subtractTotals(this.prepare(`DELETE FROM queue_entries WHERE id IN (${IDS}) RETURNING bytes`).all({ ids: JSON.stringify(ids) }) as Array<{ bytes: number }>)
    const first = this.prepare('SELECT MIN(id) AS id FROM queue_entries WHERE workspace = ? AND who = ?')
    const drop = this.prepare('DELETE FROM queue_people WHERE workspace = ? AND who = ?')
    const update = this.prepare(`UPDATE queue_people SET first_id = @first,
      owner = CASE WHEN @owner IS NULL OR owner = @owner THEN NULL ELSE owner END,
      expires_at = CASE WHEN @owner IS NULL OR owner = @owner THEN NULL ELSE expires_at END
      WHERE workspace = @workspace AND who = @who`)
    for (const person of people) {
      const row = first.get(person.workspace, person.who) as { id: number | null }
      if (row.id === null) drop.run(person.workspace, person.who)
      else update.run({ first: row.id, owner, workspace: person.workspace, who: person.who })
    }
  }

  /** Ends `owner`'s lease on `person` if it still holds it (QueueStore's ack says when the ids alone cannot). */
  private endLease(owner: string, person: PersonKey | undefined): void {
    if (person === undefined) return
    this.prepare('UPDATE queue_people SET owner = NULL, expires_at = NULL WHERE workspace = ? AND who = ? AND owner = ?').run(person.workspace, person.key, owner)
  }

  private subtractTotals(gone: Array<{ bytes: number }>): void {
    if (gone.length === 0) return
    const bytes = gone.reduce((sum, row) => sum + row.bytes, 0)
    this.prepare('UPDATE queue_totals SET entries = entries - ?, bytes = bytes - ?').run(gone.length, bytes)
  }
}

/** A list as one JSON parameter, or null for "no list" (every workspace). */
function jsonOrNull(list: readonly string[] | undefined): string | null {
  return list === undefined ? null : JSON.stringify(list)
}
