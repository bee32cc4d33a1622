import { entryColumnsSql } from './entry-columns'
import type { PoolClient } from 'pg'
import { AdapterError } from '../errors'

/** The store's table names in its schema, quoted for SQL. */
export type PostgresTables = { entries: string; people: string; deadLetters: string; paused: string; totals: string }

export function postgresTables(schema: string): PostgresTables {
  const table = (name: string) => `"${schema}"."queue_${name}"`
  return { entries: table('entries'), people: table('people'), deadLetters: table('dead_letters'), paused: table('paused'), totals: table('totals') }
}

/** An advisory lock key (any fixed number): replicas starting together create the tables one at a time. */
const SCHEMA_LOCK = 7_140_515

/** The tables and indexes ensurePostgresSchema creates, by name in their schema. */
const RELATIONS = ['entries', 'people', 'dead_letters', 'paused', 'totals', 'entries_person', 'entries_enqueued', 'people_first', 'dead_letters_workspace'].map((name) => `queue_${name}`)

/**
 * Creates the schema and tables when missing, as SQLITE_SCHEMA lays them out (see there
 * for what each holds), in one transaction under an advisory lock: two replicas starting
 * at once would otherwise both try to create them and one would fail. When all exist, runs
 * no DDL: CREATE INDEX IF NOT EXISTS takes a lock that stalls every writer while it waits.
 * With `create` false, CONFIG_INVALID instead of creating what is missing.
 */
export async function ensurePostgresSchema(client: PoolClient, schema: string, create = true): Promise<void> {
  const t = postgresTables(schema)
  const found = await client.query<{ missing: number }>(`SELECT COUNT(*) FILTER (WHERE to_regclass(format('%I.%I', $1::text, name)) IS NULL)::int AS missing FROM unnest($2::text[]) AS name`, [
    schema,
    RELATIONS
  ])
  if (found.rows[0].missing === 0) return
  if (!create) throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: no queue tables in schema ${schema} of that database: is the URL or ?schema= right? (the service creates them when it first starts in queue mode)`)
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK])
    await client.query(`
      CREATE SCHEMA IF NOT EXISTS "${schema}";
      CREATE TABLE IF NOT EXISTS ${t.entries} (
        id BIGSERIAL PRIMARY KEY,
        ${entryColumnsSql('BIGINT')},
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
      );
      CREATE INDEX IF NOT EXISTS queue_entries_person ON ${t.entries} (workspace, who, id);
      CREATE INDEX IF NOT EXISTS queue_entries_enqueued ON ${t.entries} (enqueued_at);
      CREATE TABLE IF NOT EXISTS ${t.people} (
        workspace TEXT NOT NULL,
        who TEXT NOT NULL,
        first_id BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        owner TEXT,
        expires_at BIGINT,
        PRIMARY KEY (workspace, who)
      );
      CREATE INDEX IF NOT EXISTS queue_people_first ON ${t.people} (first_id);
      CREATE TABLE IF NOT EXISTS ${t.deadLetters} (
        id BIGSERIAL PRIMARY KEY,
        entry_id BIGINT NOT NULL,
        ${entryColumnsSql('BIGINT')},
        attempts INTEGER NOT NULL,
        reason TEXT NOT NULL,
        dead_at BIGINT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS queue_dead_letters_workspace ON ${t.deadLetters} (workspace, id);
      CREATE TABLE IF NOT EXISTS ${t.paused} (
        workspace TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        paused_at BIGINT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ${t.totals} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        entries BIGINT NOT NULL,
        bytes BIGINT NOT NULL
      );
      INSERT INTO ${t.totals} (id, entries, bytes) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;`)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}
