import { EntryGrouper, type EntryGroup } from '../../koala/batcher'
import { renderRequest, type RenderedEntry } from '../../koala/rendered-request'
import type { EventRecord } from '../settling/settlement'
import type { ReplaySink, SinkOutcome } from '../settling/replay-sink'

/** An entry a line mapper rendered, with the event it came from; `sent` once its request is closed. */
export type HeldEntry = RenderedEntry & { record: EventRecord; sent: boolean }

/**
 * The replay's bounded buffer: entries grouped per person into open requests, and the
 * requests handed to the sink and not yet settled. At most `bound` entries are held in
 * all (makeRoom() is where reading waits); a request open longer than `maxHoldMs` goes
 * out early, unless the sink already has requests waiting.
 */
export class EntryHold {
  // Every entry comes from map(), which checks each one: the requests need not be checked whole again.
  private readonly grouper = new EntryGrouper<HeldEntry>((entry) => entry.key)
  /** Entries handed to the sink and not yet settled. */
  private submitted = 0
  private wake: (() => void) | undefined
  private lastAdded: HeldEntry | undefined
  private holdMarker: HeldEntry | undefined
  private holdTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly sink: ReplaySink,
    private readonly bound: number,
    /** Called with each closed request's events once the sink answers it. */
    private readonly settle: (events: readonly EventRecord[], outcome: SinkOutcome) => void
  ) {}

  /** Whether the buffer is at its bound: then the reader calls makeRoom() before it adds more. */
  get full(): boolean {
    return this.grouper.size + this.submitted >= this.bound
  }

  /** Puts one entry in its person's open request, and sends the request it closed. */
  add(entry: HeldEntry): void {
    this.lastAdded = entry
    const closed = this.grouper.add(entry)
    if (closed !== undefined) this.dispatch(closed)
  }

  /**
   * Resolves once there is room, or `stopped()` says the run stops. While the sink has
   * requests waiting it just waits: open requests keep filling, which is when batching
   * pays. When the sink runs dry, the oldest open requests go out, about a quarter of the
   * bound at a time.
   */
  async makeRoom(stopped: () => boolean): Promise<void> {
    while (this.full && !stopped()) {
      if (this.sink.backlog() === 0) {
        for (let closed = 0; closed < this.bound / 4; ) {
          const request = this.grouper.flushOldest()
          if (request === undefined) break
          closed += this.dispatch(request)
        }
      }
      if (this.submitted > 0) await new Promise<void>((resolve) => (this.wake = resolve))
    }
  }

  /**
   * Every half hold-time, closes what was already open at the previous tick, so nothing
   * waits much longer than `maxHoldMs`, unless Koala is the bottleneck: then requests
   * wait anyway, and are better full.
   */
  startHoldTimer(maxHoldMs: number): void {
    this.holdTimer = setInterval(() => {
      if (this.sink.backlog() === 0) {
        while (this.holdMarker !== undefined && !this.holdMarker.sent) {
          const request = this.grouper.flushOldest()
          if (request === undefined) break
          this.dispatch(request)
        }
      }
      this.holdMarker = this.lastAdded
    }, Math.max(1, maxHoldMs / 2))
    this.holdTimer.unref()
  }

  stopHoldTimer(): void {
    clearInterval(this.holdTimer)
  }

  /** Sends every open request, oldest first (the end of the input). */
  flush(): void {
    for (const request of this.grouper.flush()) this.dispatch(request)
  }

  /** Hands a closed request to the sink; returns how many entries it holds. */
  private dispatch(group: EntryGroup<HeldEntry>): number {
    const events: EventRecord[] = []
    for (const kind in group.lists) {
      for (const entry of group.lists[kind]) {
        entry.sent = true
        events.push(entry.record)
      }
    }
    this.submitted += events.length
    this.sink.submit(renderRequest(group), (outcome) => {
      this.submitted -= events.length
      this.settle(events, outcome)
      const resolve = this.wake
      this.wake = undefined
      resolve?.()
    })
    return events.length
  }
}
