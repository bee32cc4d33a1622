/**
 * The columns that say what an entry is, kept alike in the queue and in the dead letters,
 * in either store's SQL (only the type of its times differs: SQLite's INTEGER holds 64
 * bits, PostgreSQL needs BIGINT).
 */
export function entryColumnsSql(timeType: 'INTEGER' | 'BIGINT'): string {
  return `workspace TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    who TEXT NOT NULL,
    kind TEXT NOT NULL,
    entry TEXT NOT NULL,
    body_fields TEXT,
    message_id TEXT,
    enqueued_at ${timeType} NOT NULL,
    bytes INTEGER NOT NULL`
}
