/**
 * Segment resends a whole request we answered 503/429. Remembering which of its events
 * Koala already took lets the resend send only the rest, so a batch too big for one
 * budget gets through over a few resends instead of redelivering the same first part
 * every time. Only events of requests answered "send again" are remembered, and
 * forgotten once such a request is answered for good.
 */

/** Segment retries a request for up to 4 hours; remembering longer helps no resend. */
export const DELIVERED_MEMORY_TTL_MS = 4 * 60 * 60 * 1000

/**
 * Delivered message_ids by workspace, at most `capacity` in all (the oldest go first)
 * and none older than the TTL. Memory is per process: behind several replicas each
 * one's resends make progress on their own.
 */
export class DeliveredMemory {
  /** Insertion order is delivery order, so the first entries are the first to expire or be evicted. */
  private readonly deliveredAt = new Map<string, number>()

  constructor(
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
    private readonly ttlMs: number = DELIVERED_MEMORY_TTL_MS
  ) {}

  /** True when Koala took this event of this workspace for a request answered "send again". */
  has(workspace: string, messageId: string): boolean {
    if (this.deliveredAt.size === 0) return false
    const at = this.deliveredAt.get(keyOf(workspace, messageId))
    return at !== undefined && this.now() - at < this.ttlMs
  }

  /** Remembers delivered events of a request about to be answered "send again". */
  remember(workspace: string, messageIds: readonly string[]): void {
    if (this.capacity === 0) return
    const at = this.now()
    for (const id of messageIds) {
      const key = keyOf(workspace, id)
      this.deliveredAt.delete(key)
      this.deliveredAt.set(key, at)
    }
    this.evict(at)
  }

  /** Forgets events of a request answered for good: no resend of it will come. */
  forget(workspace: string, messageIds: readonly string[]): void {
    if (this.deliveredAt.size === 0) return
    for (const id of messageIds) this.deliveredAt.delete(keyOf(workspace, id))
  }

  get size(): number {
    return this.deliveredAt.size
  }

  private evict(at: number): void {
    for (const [key, deliveredAt] of this.deliveredAt) {
      if (this.deliveredAt.size <= this.capacity && at - deliveredAt < this.ttlMs) return
      this.deliveredAt.delete(key)
    }
  }
}

function keyOf(workspace: string, messageId: string): string {
  return `${workspace}\u0000${messageId}`
}
