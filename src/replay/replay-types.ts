/*
 * Types the replay's engines share (the run in this thread, its map threads, the --workers
 * pool and the messages to its workers), in a file of their own so none of them imports
 * another for a type: run-replay.ts and replay-workers.ts used to, in a circle.
 */

export type ReplayLimits = {
  /** Entries held at once: open in the batcher plus submitted and not settled. */
  bufferEntries: number
  maxHoldMs: number
  checkpointIntervalMs: number
  maxLineBytes: number
}

/** Why the run ended early, when it did. */
export type ReplayEnd = { stopped?: string }
