import { mergeBodyFields } from './body-fields'
import {
  assertValidRequestOfCheckedEntries,
  type BodyFields,
  MAX_ENTRIES_PER_KIND,
  type KoalaEntry,
  type KoalaRequest
} from './request-schema'
import { whoKey, whoOfEntry } from './who'

/** The grouping key of one of map()'s entries: whoKey of who it is about. */
export function keyOfEntry(entry: KoalaEntry): string {
  return whoKey(entry.endpoint, entry.endpoint === 'batch' ? entry.person : entry.account)
}

/** What a grouper holds: an entry of some kind, maybe with fields for its request's body. */
type Groupable = { kind: string; bodyFields?: unknown }

/**
 * One request's worth of entries for one person or account: kept per kind, in arrival
 * order; `first` tells who, and `bodyFields` keeps the entries' body fields in the
 * order they came (across kinds), for the request to merge.
 */
export class EntryGroup<E extends Groupable> {
  readonly lists: Record<string, E[]> = {}
  readonly bodyFields: Array<NonNullable<E['bodyFields']>> = []
  size = 0

  constructor(readonly first: E) {}

  /** Adds the entry unless its kind already holds the limit; reports false instead of throwing. */
  tryAdd(entry: E, limit: number): boolean {
    const list = (this.lists[entry.kind] ??= [])
    if (list.length >= limit) return false
    list.push(entry)
    if (entry.bodyFields !== undefined) this.bodyFields.push(entry.bodyFields as NonNullable<E['bodyFields']>)
    this.size++
    return true
  }
}

/**
 * Groups entries by who they are about (`keyOf`): one open group per key, at most
 * `limit` entries per kind each. Entry order is kept within a key: a full group is
 * closed (returned by add()) before that key's next one opens; flush() returns the
 * open ones in the order their first entry came in. What an entry is stays the
 * caller's: the replay groups entries already turned into JSON text by its map threads.
 */
export class EntryGrouper<E extends Groupable> {
  private readonly open = new Map<string, EntryGroup<E>>()
  private pendingEntries = 0

  constructor(
    private readonly keyOf: (entry: E) => string,
    private readonly limit: number = MAX_ENTRIES_PER_KIND
  ) {}

  /** Adds one entry; returns the group it closed when that key's open group was full. */
  add(entry: E): EntryGroup<E> | undefined {
    const key = this.keyOf(entry)
    const pending = this.open.get(key)
    if (pending !== undefined && pending.tryAdd(entry, this.limit)) {
      this.pendingEntries++
      return undefined
    }
    const fresh = new EntryGroup(entry)
    fresh.tryAdd(entry, this.limit)
    // Re-inserting moves the key to the end, so flush() still follows first-entry order.
    this.open.delete(key)
    this.open.set(key, fresh)
    if (pending === undefined) {
      this.pendingEntries++
      return undefined
    }
    this.pendingEntries += 1 - pending.size
    return pending
  }

  /** Entries waiting in open groups (the replay bounds its buffer with this). */
  get size(): number {
    return this.pendingEntries
  }

  /**
   * Closes the open group whose first entry came in first, or returns undefined when
   * none is open. The replay uses it to make room in a bounded buffer, and to send
   * what has waited too long, while younger groups keep filling.
   */
  flushOldest(): EntryGroup<E> | undefined {
    const oldest = this.open.entries().next()
    if (oldest.done === true) return undefined
    const [key, pending] = oldest.value
    this.open.delete(key)
    this.pendingEntries -= pending.size
    return pending
  }

  /** Closes every open group and returns them, oldest first. */
  flush(): Array<EntryGroup<E>> {
    const groups = [...this.open.values()]
    this.open.clear()
    this.pendingEntries = 0
    return groups
  }
}

/**
 * The Koala request of one group of map()'s entries. Each entry was already checked
 * against Koala's schema (checkEntry), so the request is checked only for what those
 * checks do not cover: who it is about and how many entries per kind (the whole body
 * again cost ~3 µs per event).
 */
export function toKoalaRequest(group: EntryGroup<KoalaEntry>): KoalaRequest {
  const first = group.first
  // Who first, in whoKey's order: the same text a rendered request opens with.
  const body: Record<string, unknown> = whoOfEntry(first)
  const fields = mergeBodyFields(group.bodyFields as BodyFields[])
  if (fields !== undefined) Object.assign(body, fields)
  for (const kind of Object.keys(group.lists)) {
    const list = group.lists[kind]
    if (list.length > 0) body[kind] = list.map((entry) => entry.entry)
  }
  return assertValidRequestOfCheckedEntries({ endpoint: first.endpoint, body } as KoalaRequest)
}

/**
 * Groups map()'s entries into Koala requests: one open request per person (and per
 * account), at most `limit` entries per kind each, in the order EntryGrouper keeps.
 */
export class KoalaBatcher {
  private readonly groups: EntryGrouper<KoalaEntry>

  constructor(limit: number = MAX_ENTRIES_PER_KIND) {
    this.groups = new EntryGrouper(keyOfEntry, limit)
  }

  /** Adds one entry; returns the request it closed when that person's open request was full. */
  add(entry: KoalaEntry): KoalaRequest | undefined {
    const closed = this.groups.add(entry)
    return closed === undefined ? undefined : toKoalaRequest(closed)
  }

  /** Entries waiting in open requests. */
  get size(): number {
    return this.groups.size
  }

  /** Closes the open request whose first entry came in first; undefined when none is open. */
  flushOldest(): KoalaRequest | undefined {
    const closed = this.groups.flushOldest()
    return closed === undefined ? undefined : toKoalaRequest(closed)
  }

  /** Closes every open request and returns them, oldest first. */
  flush(): KoalaRequest[] {
    return this.groups.flush().map(toKoalaRequest)
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
