/**
 * How long a state may take to come before a test gives up on it. Generous on purpose: on a
 * loaded CI machine (two cores, the whole suite twice) a state arrives late, never wrong; the
 * bound only turns a state that never comes into a message naming it, before mocha's 20 s timeout.
 */
export const STATE_BOUND_MS = 15_000

export type UntilOptions = {
  /** What the test waits for, as a failure names it: "two requests held at Koala". */
  what: string
  /** The overall bound; STATE_BOUND_MS by default. */
  withinMs?: number
  /** Checks every this many ms; 0 checks after each turn of the event loop (setImmediate). 10 by default. */
  everyMs?: number
}

/**
 * Resolves once `ready()` holds (it may ask another process, async): a state awaited, never a
 * fixed sleep. Rejects with `what` if it does not hold within the bound, or with what `ready()` threw.
 */
export async function until(ready: () => boolean | Promise<boolean>, options: UntilOptions): Promise<void> {
  const { what, withinMs = STATE_BOUND_MS, everyMs = 10 } = options
  const giveUp = Date.now() + withinMs
  while (!(await ready())) {
    if (Date.now() > giveUp) throw new Error(`never happened within ${withinMs} ms: ${what}`)
    await new Promise((resolve) => (everyMs === 0 ? setImmediate(resolve) : setTimeout(resolve, everyMs)))
  }
}
