import type { RenderedEntry } from '../koala/rendered-request'
import type { KoalaEntry } from '../koala/request-schema'

/**
 * The durable store of queue mode: the doors append Koala entries already mapped and
 * rendered (as the replay's map threads render them), the deliverer leases one person's
 * oldest entries at a time, sends them as one Koala request, and settles them. Two
 * implementations (SQLite, PostgreSQL) behind this one interface; the deliverer does not
 * know which it runs on.
 */
export interface QueueStore {
  /** `sqlite` or `postgres`, for logs and metrics. */
  readonly kind: 'sqlite' | 'postgres'
  /** What the store has done since it opened (group commits, takeovers). */
  readonly counters: QueueCounters

  /**
   * Stores a door request's entries for `workspace`, durably (committed, fsynced) before it
   * resolves; concurrent appends share one commit. Rejects with QUEUE_FULL when the store
   * would pass its limits, QUEUE_WRITE_FAILED when the disk or database refuses the write;
   * a rejected append stored nothing. Resolves to the ids given, in order.
   */
  append(workspace: string, entries: readonly QueueEntryInput[]): Promise<number[]>

  /**
   * Leases people (and accounts) whose entries are due (past their retry time and their
   * linger, or a full request), not paused and not leased by a live owner, to `owner`: for each, its oldest entries in order, as many as one Koala request
   * takes. A person is leased to one owner at a time; an expired lease is taken over.
   */
  lease(owner: string, options: LeaseOptions): Promise<LeasedPerson[]>

  /**
   * Deletes delivered entries, and ends `owner`'s lease on their people, and on `person` (the
   * leased person the ids came from) even when a stale owner settled the ids first.
   */
  ack(owner: string, ids: readonly number[], person?: PersonKey): Promise<void>

  /**
   * Puts entries back to be tried again `delayMs` from now by the store's clock (the
   * database's, for PostgreSQL: the one every replica's leases and linger go by), counting the
   * attempt and its reason; their person's later entries wait behind them, so order is kept.
   * `person` as for ack.
   */
  retryLater(owner: string, ids: readonly number[], delayMs: number, reason: string, person?: PersonKey): Promise<void>

  /** Moves entries Koala refused for good to the dead letters, with its answer as `reason`. `person` as for ack. */
  deadLetter(owner: string, ids: readonly number[], reason: string, person?: PersonKey): Promise<void>

  /** Stops leasing a workspace's entries (Koala refused its key) until resumeWorkspace. */
  pauseWorkspace(workspace: string, reason: string): Promise<void>
  resumeWorkspace(workspace: string): Promise<void>

  /**
   * Dead-letters entries enqueued more than `maxAgeMs` ago whose person is not leased, in
   * transactions of QueueStoreOptions' sweepBatch entries; returns how many.
   */
  sweepExpired(maxAgeMs: number): Promise<number>

  /** Per workspace: entries waiting, their bytes, the oldest's age, dead letters, paused. */
  status(): Promise<QueueStatus>
  /** Dead letters, oldest first. */
  listDeadLetters(options: { workspace?: string; limit: number }): Promise<DeadLetter[]>
  /** Puts dead letters back in the queue, in their original place in their person's order; returns how many. */
  retryDeadLetters(options: { workspace?: string }): Promise<number>
  /** Deletes a workspace's entries and dead letters; returns how many of each. */
  purge(options: { workspace: string }): Promise<{ entries: number; deadLetters: number }>

  /** Commits what is pending, then closes the file or the connections. */
  close(): Promise<void>
}

/** Which leased person a settle is about: a LeasedPerson's workspace and key. */
export type PersonKey = { workspace: string; key: string }

/** One entry as a door appends it: rendered by renderEntry, with its event's message_id when it has one. */
export type QueueEntryInput = RenderedEntry & { messageId?: string }

export type Endpoint = KoalaEntry['endpoint']

/** An entry as the store holds it. `key` says who it is about (RenderedEntry's key, endpoint first). */
export type QueuedEntry = RenderedEntry & {
  id: number
  workspace: string
  endpoint: Endpoint
  messageId?: string
  enqueuedAt: number
  attempts: number
  bytes: number
}

/** One person's (or account's) entries leased to an owner: one Koala request's worth, oldest first. */
export type LeasedPerson = {
  workspace: string
  endpoint: Endpoint
  key: string
  entries: QueuedEntry[]
  /** The lease ends then (epoch ms) unless the owner settles first. */
  expiresAt: number
  /** True when the lease was taken over from an owner whose lease expired. */
  takenOver: boolean
}

export type LeaseOptions = {
  /** People (and accounts) to lease at most. */
  maxPeople: number
  /** Entries of one kind per lease: Koala's 30 per request. */
  maxPerKind: number
  leaseMs: number
  /**
   * A person is due only once its oldest entry has waited this long, or it already holds
   * `maxPerKind` entries of one kind (a full request): more of its entries may come to share
   * the request. 0 by default.
   */
  lingerMs?: number
  /**
   * Only these workspaces' people (the ones this replica has a mapping for); all by default.
   * A replica never leases what it cannot send: another replica that serves it sends it.
   */
  workspaces?: readonly string[]
  /** The time to lease at (epoch ms); the store's clock by default. */
  now?: number
}

export type WorkspaceStatus = {
  workspace: string
  depth: number
  bytes: number
  /** ms since the oldest waiting entry was enqueued; 0 when none waits. */
  oldestAgeMs: number
  deadLetters: number
  paused: boolean
  pausedReason?: string
}

export type QueueStatus = {
  workspaces: WorkspaceStatus[]
  depth: number
  bytes: number
  deadLetters: number
}

export type DeadLetter = QueuedEntry & { reason: string; deadAt: number }

export type QueueCounters = {
  /** Durable commits of appends: fewer than appends when group commit works. */
  commits: number
  /** Appends committed. */
  appends: number
  /** Leases taken over from an owner whose lease expired. */
  takeovers: number
}

/** The endpoint a rendered entry goes to: its key starts with it. */
export function endpointOfKey(key: string): Endpoint {
  return key.startsWith('accounts/batch') ? 'accounts/batch' : 'batch'
}

/** What an entry weighs in the store, counted against its byte limit. */
export function entryBytes(entry: QueueEntryInput): number {
  return Buffer.byteLength(entry.key) + Buffer.byteLength(entry.text) + (entry.bodyFields === undefined ? 0 : Buffer.byteLength(entry.bodyFields))
}
