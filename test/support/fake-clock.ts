/**
 * A clock that moves only when a test moves it: `now`, `setTimer` and `sleep` for code that takes
 * its time injected (the Koala client's KoalaClientDeps, startService's `now` and `setTimer`).
 * A test about a timeout fires it by advancing the clock once the state it is about is reached,
 * so no outcome depends on how fast the machine runs.
 */
export type FakeClock = {
  now(): number
  /** Registers `fire` for `ms` from now; it fires when advance() reaches it. Returns its cancel. */
  setTimer(fire: () => void, ms: number): () => void
  /** Moves the clock by `ms` (a wait that takes no real time), then resolves. */
  sleep(ms: number): Promise<void>
  /** Moves the clock by `ms`, firing the timers that come due, earliest first. */
  advance(ms: number): void
  /** The ms left on each timer still pending, earliest first. */
  pendingTimers(): number[]
}

/** A fake clock starting at `start` (epoch ms). */
export function fakeClock(start = 0): FakeClock {
  let time = start
  let nextId = 0
  const timers = new Map<number, { due: number; fire: () => void }>()
  const earliest = () => [...timers.entries()].sort(([a, x], [b, y]) => x.due - y.due || a - b)

  const advance = (ms: number): void => {
    const target = time + ms
    for (;;) {
      const next = earliest().find(([, timer]) => timer.due <= target)
      if (next === undefined) break
      const [id, timer] = next
      timers.delete(id)
      time = Math.max(time, timer.due)
      timer.fire()
    }
    time = target
  }

  return {
    now: () => time,
    setTimer(fire, ms) {
      const id = nextId++
      timers.set(id, { due: time + ms, fire })
      return () => timers.delete(id)
    },
    async sleep(ms) {
      advance(ms)
    },
    advance,
    pendingTimers: () => earliest().map(([, timer]) => timer.due - time)
  }
}
