import type { AdapterError } from '../errors'
import { queueFull } from './queue-errors'
import { entryBytes, type QueueEntryInput } from './queue-store'

/** What a store holds, as its limits count it. */
export type StoreTotals = { entries: number; bytes: number }

/**
 * Whether one append of a group fits the store's limits: its entries' sizes when it does
 * (added to `totals` at once, so the group's next append sees them), else QUEUE_FULL and
 * nothing counted. Both stores decide a group's appends with it, in order, in its commit.
 */
export function admitAppend(entries: readonly QueueEntryInput[], totals: StoreTotals, limits: { maxEntries: number; maxBytes: number }): number[] | AdapterError {
  const sizes = entries.map(entryBytes)
  const bytes = sizes.reduce((sum, size) => sum + size, 0)
  if (totals.entries + entries.length > limits.maxEntries) return queueFull('entries', limits.maxEntries)
  if (totals.bytes + bytes > limits.maxBytes) return queueFull('bytes', limits.maxBytes)
  totals.entries += entries.length
  totals.bytes += bytes
  return sizes
}
