import { MultiBar, Presets } from 'cli-progress'

/** What progress is shown from. */
export type ProgressFeed = {
  /** Raw (compressed) bytes read so far, of `bytesTotal`; 0 total when reading stdin. */
  bytesDone(): number
  bytesTotal: number
  eventsRead(): number
  /** Delivered, dead-lettered or dropped: what progress counts, since events read run ahead by the buffer. */
  eventsSettled(): number
}

/** Shows progress and the problems found on the way, without the two garbling each other. */
export type ProgressReporter = {
  /** One line for the user (a malformed line, a corrupt file). */
  log(line: string): void
  stop(): void
}

export type ProgressMode = 'bar' | 'lines' | 'off'

const BAR_REFRESH_MS = 250

/**
 * Bytes whose events have settled, estimated: the bytes read, scaled by the share of the
 * events read that have settled. So the bar does not reach the end while the buffer and
 * Koala still hold thousands of events.
 */
function bytesSettled(feed: ProgressFeed): number {
  const read = feed.eventsRead()
  const share = read === 0 ? 0 : Math.min(1, feed.eventsSettled() / read)
  return Math.round(feed.bytesDone() * share)
}

/**
 * A cli-progress bar on a terminal (events settled, and their estimated share of the
 * bytes to read, events/s, ETA), a plain line every `intervalMs` elsewhere (logs, CI), or
 * nothing. Its timers never keep the process alive.
 */
export function startProgress(mode: ProgressMode, feed: ProgressFeed, out: NodeJS.WritableStream, intervalMs: number): ProgressReporter {
  const startedAt = Date.now()
  const rate = () => Math.round(feed.eventsSettled() / Math.max(0.001, (Date.now() - startedAt) / 1000))
  if (mode === 'off') return { log: (line) => out.write(line + '\n'), stop: () => {} }

  if (mode === 'lines') {
    const timer = setInterval(() => out.write(`replay: ${describe(feed, startedAt, rate())}\n`), intervalMs)
    timer.unref()
    return { log: (line) => out.write(line + '\n'), stop: () => clearInterval(timer) }
  }

  const hasTotal = feed.bytesTotal > 0
  const multibar = new MultiBar(
    {
      stream: out as NodeJS.WriteStream,
      format: hasTotal
        ? 'replay [{bar}] {percentage}% | {done} of {total_size} | {events} events settled | {rate} events/s | ETA {eta_formatted}'
        : 'replay | {events} events settled | {rate} events/s',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 20,
      etaBuffer: 40,
      fps: 1000 / BAR_REFRESH_MS
    },
    Presets.shades_classic
  )
  const payload = () => ({ done: megabytes(bytesSettled(feed)), total_size: megabytes(feed.bytesTotal), events: feed.eventsSettled().toLocaleString('en-US'), rate: rate().toLocaleString('en-US') })
  const bar = multibar.create(hasTotal ? feed.bytesTotal : 1, 0, payload())
  const timer = setInterval(() => bar.update(Math.min(bytesSettled(feed), feed.bytesTotal || 0), payload()), BAR_REFRESH_MS)
  timer.unref()
  let stopped = false
  return {
    log: (line) => (stopped ? out.write(line + '\n') : multibar.log(line + '\n')),
    stop: () => {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      bar.update(hasTotal ? Math.min(bytesSettled(feed), feed.bytesTotal) : 1, payload())
      multibar.stop()
    }
  }
}

function describe(feed: ProgressFeed, startedAt: number, eventsPerSecond: number): string {
  const done = bytesSettled(feed)
  const parts: string[] = []
  const events = `${feed.eventsSettled().toLocaleString('en-US')} events settled (${feed.eventsRead().toLocaleString('en-US')} read)`
  if (feed.bytesTotal > 0) {
    const fraction = Math.min(1, done / feed.bytesTotal)
    const elapsed = (Date.now() - startedAt) / 1000
    const eta = fraction > 0 ? Math.round((elapsed / fraction) * (1 - fraction)) : undefined
    parts.push(`${(fraction * 100).toFixed(1)}% (${megabytes(done)} of ${megabytes(feed.bytesTotal)})`)
    parts.push(events, `${eventsPerSecond.toLocaleString('en-US')} events/s`)
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`)
  } else {
    parts.push(`${megabytes(feed.bytesDone())} read`, events, `${eventsPerSecond.toLocaleString('en-US')} events/s`)
  }
  return parts.join(', ')
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`
}
