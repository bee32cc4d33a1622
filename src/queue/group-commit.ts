/**
 * Group commit: items submitted while a commit runs (or within `windowMs` of the first)
 * wait and then share one commit, so many door requests cost one fsync. One commit runs
 * at a time. `commitGroup` answers each item (a result, or an Error for that item alone)
 * or throws, which fails every item of the group.
 */
export class GroupCommit<Item, Result> {
  private waiting: Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }> = []
  private running: Promise<void> | undefined
  private scheduled = false
  /** Commits run so far. */
  commits = 0

  constructor(
    private readonly commitGroup: (items: Item[]) => Promise<Array<Result | Error>> | Array<Result | Error>,
    private readonly windowMs: number
  ) {}

  /** Resolves once the group holding `item` is committed; rejects with its item's error or the group's. */
  submit(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject })
      this.schedule()
    })
  }

  /** Resolves when nothing is waiting or committing. */
  async drain(): Promise<void> {
    while (this.running !== undefined || this.waiting.length > 0) {
      if (this.running === undefined) this.schedule()
      await (this.running ?? new Promise((resolve) => setImmediate(resolve)))
    }
  }

  private schedule(): void {
    if (this.running !== undefined || this.scheduled) return
    this.scheduled = true
    const start = () => {
      this.scheduled = false
      this.running = this.commitWaiting().finally(() => {
        this.running = undefined
        if (this.waiting.length > 0) this.schedule()
      })
    }
    if (this.windowMs > 0) setTimeout(start, this.windowMs)
    else setImmediate(start)
  }

  private async commitWaiting(): Promise<void> {
    const group = this.waiting
    this.waiting = []
    if (group.length === 0) return
    this.commits++
    let outcomes: Array<Result | Error>
    try {
      outcomes = await this.commitGroup(group.map((waiting) => waiting.item))
    } catch (error) {
      for (const waiting of group) waiting.reject(error)
      return
    }
    group.forEach((waiting, i) => {
      const outcome = outcomes[i]
      if (outcome instanceof Error) waiting.reject(outcome)
      else waiting.resolve(outcome)
    })
  }
}
