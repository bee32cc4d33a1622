import type { DeadLetter, Endpoint, QueuedEntry } from './queue-store'

/** An entry's row as both stores select it (PostgreSQL gives BIGINT columns as strings). */
export type QueuedEntryRow = {
  id: number | string
  workspace: string
  endpoint: string
  who: string
  kind: string
  entry: string
  body_fields: string | null
  message_id: string | null
  enqueued_at: number | string
  attempts: number
  bytes: number
}

export type DeadLetterRow = QueuedEntryRow & { reason: string; dead_at: number | string }

/** The columns QueuedEntryRow reads, for a SELECT list. */
export const ENTRY_COLUMNS = 'id, workspace, endpoint, who, kind, entry, body_fields, message_id, enqueued_at, attempts, bytes'

/** A stored row as the store's callers see it. */
export function toQueuedEntry(row: QueuedEntryRow): QueuedEntry {
  const entry: QueuedEntry = {
    id: Number(row.id),
    workspace: row.workspace,
    endpoint: row.endpoint as Endpoint,
    key: row.who,
    kind: row.kind,
    text: row.entry,
    enqueuedAt: Number(row.enqueued_at),
    attempts: row.attempts,
    bytes: row.bytes
  }
  if (row.body_fields !== null) entry.bodyFields = row.body_fields
  if (row.message_id !== null) entry.messageId = row.message_id
  return entry
}

export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return { ...toQueuedEntry(row), reason: row.reason, deadAt: Number(row.dead_at) }
}
