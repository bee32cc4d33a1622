/* The replay's limits and end, shared by the run and the command that starts it. */

export type ReplayLimits = {
  /** Entries held at once: open in the batcher plus submitted and not settled. */
  bufferEntries: number
  maxHoldMs: number
  checkpointIntervalMs: number
  maxLineBytes: number
}

/** Why the run ended early, when it did. */
export type ReplayEnd = { stopped?: string }
