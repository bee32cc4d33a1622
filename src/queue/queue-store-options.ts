import { z } from 'zod'

/**
 * A queue store's settings, with their defaults written once, here: parsed once when the
 * store opens. The service's config (QUEUE_MAX_ENTRIES, QUEUE_MAX_BYTES) passes its values in.
 */
export const QueueStoreOptions = z.object({
  /** Entries waiting (dead letters not counted) past which an append is refused with QUEUE_FULL. */
  maxEntries: z.number().int().min(1).default(10_000_000),
  /** Bytes of entries waiting (their JSON text) past which an append is refused with QUEUE_FULL. */
  maxBytes: z.number().int().min(1).default(8 * 1024 * 1024 * 1024),
  /**
   * How long the first append of a group waits for others to join its commit. 0: until the
   * current turn of the event loop ends, which already gathers the requests read meanwhile.
   */
  groupWindowMs: z.number().int().nonnegative().default(0),
  /**
   * SQLite: this process is the one that delivers from the file (the service, not the queue
   * CLI), so leases found at open belong to a run that was killed, and end at once instead of
   * holding their people for QUEUE_LEASE_MS. PostgreSQL replicas never do this: a lease found
   * there may be a live replica's.
   */
  soleDeliverer: z.boolean().default(false),
  /** PostgreSQL: the schema holding the tables (created when missing). */
  schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _ only').default('public'),
  /** PostgreSQL: connections per process. */
  poolSize: z.number().int().min(2).default(4),
  /**
   * PostgreSQL: create the schema and tables when missing (the service). The queue CLI passes
   * false: a mistyped URL or ?schema= must be refused, not answered with an empty new queue.
   */
  create: z.boolean().default(true),
  /** PostgreSQL: how long opening a connection may take. */
  connectTimeoutMs: z.number().int().min(1).default(5_000),
  /**
   * PostgreSQL: how long a statement waits for a row or table lock (the totals row every write
   * locks) before it fails as QUEUE_WRITE_FAILED, so the door answers 503 instead of holding
   * the sender's request while another replica is stuck mid-transaction. Writes hold the lock
   * for milliseconds; 5 s of waiting means something is wrong.
   */
  lockTimeoutMs: z.number().int().min(1).default(5_000),
  /** PostgreSQL: the longest a statement may run; a batch of the sweep takes far less. */
  statementTimeoutMs: z.number().int().min(1).default(30_000),
  /**
   * PostgreSQL: a transaction left idle this long (its replica paused or cut off mid-write) is
   * ended by the server, releasing the totals row that every replica's writes wait for. Ours
   * never idle longer than a round trip between statements.
   */
  idleInTransactionTimeoutMs: z.number().int().min(1).default(15_000),
  /** Entries the expiry sweep moves per transaction: a long outage's backlog is swept in many short ones. */
  sweepBatch: z.number().int().min(1).default(1_000),
  /**
   * The clock of enqueue times, leases and ages (epoch ms); tests hand in a fake one.
   * PostgreSQL uses the database's clock unless one is given, so replicas agree on leases.
   */
  now: z.custom<() => number>((value) => typeof value === 'function').default(() => Date.now),
  /**
   * SQLite, as the service runs it (in a thread of its own): told when that thread died. What
   * waited on it failed (a door answered 503); the next call a second later starts a new one.
   */
  onThreadFailure: z.custom<(message: string) => void>((value) => typeof value === 'function').optional()
})
export type QueueStoreOptions = z.input<typeof QueueStoreOptions>
export type QueueStoreSettings = z.output<typeof QueueStoreOptions>

/** Kinds one Koala request holds at most (events, identifies, page_views): a lease reads this many times maxPerKind. */
export const KINDS_PER_REQUEST = 3
