import type { DropReason } from '../drop-reasons'

/**
 * Events not forwarded, counted per reason: what the server answers and logs, `map`
 * prints and a replay sums up. Plain data, so it crosses to a thread and into JSON as it is.
 */
export type DropTally = Partial<Record<DropReason, number>>

/** Counts `count` more events dropped for `reason`. */
export function countDrop(tally: DropTally, reason: DropReason, count = 1): void {
  tally[reason] = (tally[reason] ?? 0) + count
}

/** Every event the tally counts. */
export function droppedTotal(tally: DropTally): number {
  let total = 0
  for (const count of Object.values(tally)) total += count ?? 0
  return total
}
