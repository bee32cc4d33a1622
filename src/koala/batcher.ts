import {
  assertValidRequestOfCheckedEntries,
  MAX_ENTRIES_PER_KIND,
  type Account,
  type KoalaEntry,
  type KoalaRequest,
  type Person
} from './request-schema'

/** One open request for one person or account: entries kept per kind, in arrival order. */
class PendingRequest {
  readonly lists: Record<string, unknown[]> = {}
  size = 0

  constructor(
    readonly endpoint: KoalaEntry['endpoint'],
    readonly who: Person | Account
  ) {}

  /** Adds the entry unless its kind already holds the limit; reports false instead of throwing. */
  tryAdd(entry: KoalaEntry, limit: number): boolean {
    const list = (this.lists[entry.kind] ??= [])
    if (list.length >= limit) return false
    list.push(entry.entry)
    this.size++
    return true
  }

  toRequest(): KoalaRequest {
    const body: Record<string, unknown> = { ...this.who }
    for (const kind of Object.keys(this.lists)) if (this.lists[kind].length > 0) body[kind] = this.lists[kind]
    return assertValidRequestOfCheckedEntries({ endpoint: this.endpoint, body } as KoalaRequest)
  }
}

/** Who a request is about, as one key: the exact profile_id+email pair, or account_id+domain. */
export function whoKey(endpoint: KoalaEntry['endpoint'], who: Person | Account): string {
  if (endpoint === 'batch') {
    const person = who as Person
    return `p\u0000${person.profile_id ?? ''}\u0000${person.email ?? ''}`
  }
  const account = who as Account
  return `a\u0000${account.account_id ?? ''}\u0000${account.domain ?? ''}`
}

function keyOf(entry: KoalaEntry): string {
  return whoKey(entry.endpoint, entry.endpoint === 'batch' ? entry.person : entry.account)
}

/**
 * Groups entries into Koala requests: one open request per person (and per
 * account), at most `limit` entries per kind each. Entry order is kept within a
 * person: a full request is closed (returned by add()) before that person's next
 * one opens; flush() returns the open ones in the order their first entry came in.
 * Its entries are map()'s, each already checked against Koala's schema (checkEntry),
 * so a closed request is checked only for what those checks do not cover: who it is
 * about and how many entries per kind (the whole body again cost ~3 µs per event).
 */
export class KoalaBatcher {
  private readonly open = new Map<string, PendingRequest>()
  private pendingEntries = 0

  constructor(private readonly limit: number = MAX_ENTRIES_PER_KIND) {}

  /** Adds one entry; returns the request it closed when that person's open request was full. */
  add(entry: KoalaEntry): KoalaRequest | undefined {
    const key = keyOf(entry)
    const pending = this.open.get(key)
    if (pending !== undefined && pending.tryAdd(entry, this.limit)) {
      this.pendingEntries++
      return undefined
    }
    const fresh = new PendingRequest(entry.endpoint, entry.endpoint === 'batch' ? entry.person : entry.account)
    fresh.tryAdd(entry, this.limit)
    // Re-inserting moves the key to the end, so flush() still follows first-entry order.
    this.open.delete(key)
    this.open.set(key, fresh)
    if (pending === undefined) {
      this.pendingEntries++
      return undefined
    }
    this.pendingEntries += 1 - pending.size
    return pending.toRequest()
  }

  /** Entries waiting in open requests (the replay bounds its buffer with this). */
  get size(): number {
    return this.pendingEntries
  }

  /**
   * Closes the open request whose first entry came in first, or returns undefined when
   * none is open. The replay uses it to make room in a bounded buffer, and to send
   * what has waited too long, while younger requests keep filling.
   */
  flushOldest(): KoalaRequest | undefined {
    const oldest = this.open.entries().next()
    if (oldest.done === true) return undefined
    const [key, pending] = oldest.value
    this.open.delete(key)
    this.pendingEntries -= pending.size
    return pending.toRequest()
  }

  /** Closes every open request and returns them, oldest first. */
  flush(): KoalaRequest[] {
    const requests = [...this.open.values()].map((pending) => pending.toRequest())
    this.open.clear()
    this.pendingEntries = 0
    return requests
  }
}

/** Groups a finite list of entries into requests (a door request's, the CLI's `--batch`). */
export function groupByPerson(entries: Iterable<KoalaEntry>, limit: number = MAX_ENTRIES_PER_KIND): KoalaRequest[] {
  const batcher = new KoalaBatcher(limit)
  const requests: KoalaRequest[] = []
  for (const entry of entries) {
    const closed = batcher.add(entry)
    if (closed !== undefined) requests.push(closed)
  }
  return requests.concat(batcher.flush())
}
