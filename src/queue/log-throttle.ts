/** Says whether a loud log line about `key` is due: at most once per `intervalMs` per key, so a problem stays loud without flooding the log. */
export class LogThrottle {
  private readonly loggedAt = new Map<string, number>()

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number
  ) {}

  /** True (and remembered) when `key` was not logged within the interval. */
  due(key: string): boolean {
    const at = this.now()
    const last = this.loggedAt.get(key)
    if (last !== undefined && at - last < this.intervalMs) return false
    this.loggedAt.set(key, at)
    return true
  }

  /** Forgets `key`: its next problem is logged at once. */
  clear(key: string): void {
    this.loggedAt.delete(key)
  }
}
