type Job = { who: string | undefined; start: () => Promise<unknown>; settled: (outcome: PromiseSettledResult<unknown>) => void }

/**
 * Runs deliveries with at most `concurrency` in flight. Deliveries given the same `who`
 * (whoKey, koala/who.ts) go one after the other, in the order submitted, so a retried
 * request is never overtaken by that person's next one; the others start in the order
 * submitted as room frees up. The one limiter of Koala requests, for every door.
 */
export class DeliveryQueue {
  /** Deliveries ready to start, oldest first. */
  private readonly ready: Job[] = []
  /** People with a delivery queued or in flight; their next ones wait here, in order. */
  private readonly lines = new Map<string, Job[]>()
  private readonly concurrency: number
  private running = 0
  private notStarted = 0
  private onIdle: (() => void) | undefined

  constructor(concurrency: number) {
    // 0 would never start anything: one at a time is the least that still delivers.
    this.concurrency = Math.max(1, concurrency)
  }

  /**
   * Queues one delivery: `start` runs once there is room and no earlier delivery of the same
   * `who` is queued or in flight; `settled` is called exactly once with what it resolved or
   * rejected with, after its room is given to the next.
   */
  submit<T>(start: () => Promise<T>, settled: (outcome: PromiseSettledResult<T>) => void, who?: string): void {
    const job: Job = { who, start, settled: settled as Job['settled'] }
    this.notStarted++
    if (who === undefined) this.ready.push(job)
    else {
      const line = this.lines.get(who)
      if (line !== undefined) line.push(job)
      else {
        this.lines.set(who, [])
        this.ready.push(job)
      }
    }
    this.pump()
  }

  /** Deliveries submitted and not yet started. */
  get backlog(): number {
    return this.notStarted
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.running === 0 && this.ready.length === 0) return Promise.resolve()
    return new Promise((resolve) => (this.onIdle = resolve))
  }

  private pump(): void {
    while (this.running < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!
      this.running++
      this.notStarted--
      let started: Promise<unknown>
      try {
        started = job.start()
      } catch (error) {
        started = Promise.reject(error)
      }
      started.then(
        (value) => this.finish(job, { status: 'fulfilled', value }),
        (reason: unknown) => this.finish(job, { status: 'rejected', reason })
      )
    }
    if (this.running === 0 && this.ready.length === 0 && this.onIdle !== undefined) {
      const resolve = this.onIdle
      this.onIdle = undefined
      resolve()
    }
  }

  private finish(job: Job, outcome: PromiseSettledResult<unknown>): void {
    this.running--
    if (job.who !== undefined) {
      const next = this.lines.get(job.who)
      if (next !== undefined && next.length > 0) this.ready.push(next.shift()!)
      else this.lines.delete(job.who)
    }
    job.settled(outcome)
    this.pump()
  }
}
