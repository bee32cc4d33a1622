import { setTimeout as sleep } from 'node:timers/promises'

export type Clock = { now(): number; sleep(ms: number): Promise<unknown> }

const realClock: Clock = { now: Date.now, sleep: (ms) => sleep(ms) }

/**
 * Spaces request starts evenly, at most `perSecond` per second. No burst allowance:
 * a replay has all the time it needs, and an even pace is what a rate limit on
 * Koala's side would want.
 */
export class RateLimit {
  private nextAt = -Infinity

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock = realClock
  ) {}

  /** Resolves when the caller may start its request; each caller gets its own slot. */
  async take(): Promise<void> {
    const now = this.clock.now()
    const at = Math.max(now, this.nextAt)
    this.nextAt = at + 1000 / this.perSecond
    if (at > now) await this.clock.sleep(at - now)
  }
}
