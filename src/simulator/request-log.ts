import { MAX_ENTRIES_PER_KIND } from '../koala/request-schema'

/**
 * Why an accepted request deserves a second look. Koala answers 200 to all of
 * these, so the only place a test can see them is the record.
 * - `missing_user_agent`: Koala may treat the request as bot traffic and drop it.
 * - `duplicate_message_id`: an entry reuses a message_id already accepted for this
 *   key (Koala deduplicates it: a retry after a lost answer, or a mapping bug).
 * - `client_disconnected`: the client hung up before the answer (a latency fault
 *   outlived its timeout), yet Koala would still have ingested the request.
 */
export type RequestFlag = 'missing_user_agent' | 'duplicate_message_id' | 'client_disconnected'

/** One accepted ingestion request. Header names are lower-case, as Node gives them. */
export type RecordedRequest = {
  method: string
  path: string
  /** The public API key from the path, decoded: tells apart the workspaces (projects) sending to one simulator. */
  key: string
  headers: Record<string, string>
  body: unknown
  flags: RequestFlag[]
}

/** Enough for any test or demo; a benchmark or a long local run forgets the oldest. */
export const DEFAULT_MAX_RECORDS = 100_000
// Three kinds of at most MAX_ENTRIES_PER_KIND entries each.
const MAX_ENTRIES_PER_REQUEST = 3 * MAX_ENTRIES_PER_KIND

/** Accepted requests in the order they were accepted, and the message_ids seen per key. */
export class RequestLog {
  private records: RecordedRequest[] = []
  private seenMessageIds = new Set<string>()

  constructor(private readonly maxRecords = DEFAULT_MAX_RECORDS) {}

  /** Appends an accepted request, adding the duplicate flag when one of its message_ids was seen. */
  record(request: RecordedRequest): void {
    if (this.markMessageIds(request.key, request.body)) request.flags.push('duplicate_message_id')
    this.records.push(request)
    if (this.records.length > this.maxRecords) {
      // Dropping in chunks keeps the cost per request constant on average.
      this.records.splice(0, Math.ceil(this.maxRecords / 10))
      if (this.seenMessageIds.size > this.maxRecords * MAX_ENTRIES_PER_REQUEST) this.seenMessageIds.clear()
    }
  }

  /** A copy of the list (only `key`'s requests when given), so callers may keep it while the simulator goes on. */
  list(key?: string): RecordedRequest[] {
    return key === undefined ? this.records.slice() : this.records.filter((record) => record.key === key)
  }

  /** Forgets the requests and the message_ids seen. */
  clear(): void {
    this.records = []
    this.seenMessageIds.clear()
  }

  private markMessageIds(apiKey: string, body: unknown): boolean {
    let duplicate = false
    for (const kind of ['events', 'page_views', 'identifies']) {
      const entries = (body as Record<string, unknown>)[kind]
      if (!Array.isArray(entries)) continue
      for (const entry of entries) {
        const id = (entry as { message_id?: unknown }).message_id
        if (typeof id !== 'string') continue
        const scoped = `${apiKey}\n${id}`
        if (this.seenMessageIds.has(scoped)) duplicate = true
        else this.seenMessageIds.add(scoped)
      }
    }
    return duplicate
  }
}

/** Flattens Node's request headers: only `set-cookie` may repeat, and requests rarely carry it. */
export function flatHeaders(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}
