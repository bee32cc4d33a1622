import { entryColumnsSql } from './entry-columns'

/**
 * The SQLite store's tables. `queue_people` holds one row per person (or account) with
 * entries waiting: the oldest entry's id (leases go oldest first), when the person is next
 * due (a failed request delays all of its later entries), and the lease. `queue_totals`
 * keeps what the limits are checked against, since COUNT(*) reads the whole table.
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ${entryColumnsSql('INTEGER')},
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS queue_entries_person ON queue_entries (workspace, who, id);
CREATE INDEX IF NOT EXISTS queue_entries_enqueued ON queue_entries (enqueued_at);
CREATE TABLE IF NOT EXISTS queue_people (
  workspace TEXT NOT NULL,
  who TEXT NOT NULL,
  first_id INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  owner TEXT,
  expires_at INTEGER,
  PRIMARY KEY (workspace, who)
);
CREATE INDEX IF NOT EXISTS queue_people_first ON queue_people (first_id);
CREATE TABLE IF NOT EXISTS queue_dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  entry_id INTEGER NOT NULL,
  ${entryColumnsSql('INTEGER')},
  attempts INTEGER NOT NULL,
  reason TEXT NOT NULL,
  dead_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_dead_letters_workspace ON queue_dead_letters (workspace, id);
CREATE TABLE IF NOT EXISTS queue_paused (
  workspace TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  paused_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  entries INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO queue_totals (id, entries, bytes) VALUES (1, 0, 0);
`
