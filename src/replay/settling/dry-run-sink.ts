import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { ReplaySink } from './replay-sink'

/** Writes gathered this large go out as one: fewer, larger writes to the file or pipe. */
const WRITE_BYTES = 64 * 1024
/**
 * Reading pauses while about this much output waits to be written (characters, for a stream that
 * keeps strings). Not the stream's own mark alone (16 KB for a file or stdout, less than one
 * write): pausing at each write idled the thread for every write's round trip (~5%).
 */
const PENDING_BYTES = 1024 * 1024

/**
 * A dry run's sink: writes each request as one NDJSON line `{"endpoint":…,"body":…}`
 * and sends nothing. A request counts as settled once it is handed to the stream;
 * the stream's backpressure (past PENDING_BYTES) pauses the reading through `ready()`.
 */
export function createDryRunSink(out: Writable, options: { end: boolean }): ReplaySink {
  let buffered: string[] = []
  let bufferedChars = 0
  const push = (): void => {
    if (buffered.length === 0) return
    out.write(buffered.join(''))
    buffered = []
    bufferedChars = 0
  }
  return {
    canRefuse: false,
    submit(request, settled) {
      const line = typeof request.body === 'string' ? `{"endpoint":${JSON.stringify(request.endpoint)},"body":${request.body}}\n` : JSON.stringify(request) + '\n'
      buffered.push(line)
      bufferedChars += line.length
      if (bufferedChars >= WRITE_BYTES) push()
      settled({ ok: true, status: 'written' })
    },
    backlog: () => 0,
    ready() {
      // 'drain' comes only after a write past the stream's own mark: without one, waiting for it would never end.
      return out.writableNeedDrain && out.writableLength >= PENDING_BYTES ? once(out, 'drain').then(() => undefined) : undefined
    },
    async close() {
      push()
      await finishOutput(out, options.end)
    }
  }
}

/** Ends the dry-run output and waits for it to be written; or, for a stream we do not own (stdout), waits for it to drain. */
async function finishOutput(out: Writable, end: boolean): Promise<void> {
  if (!end) {
    if (out.writableNeedDrain) await once(out, 'drain')
    return
  }
  out.end()
  await once(out, 'finish')
}
