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
  /** The clock of enqueue times, leases and ages (epoch ms); tests hand in a fake one. */
  now: z.custom<() => number>((value) => typeof value === 'function').default(() => Date.now)
})
export type QueueStoreOptions = z.input<typeof QueueStoreOptions>
export type QueueStoreSettings = z.output<typeof QueueStoreOptions>

/** Kinds one Koala request holds at most (events, identifies, page_views): a lease reads this many times maxPerKind. */
export const KINDS_PER_REQUEST = 3
