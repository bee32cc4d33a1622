import type { OutboundRequest } from '../../koala/request-schema'
import type { DeadLetterReason } from './dead-letter'

/**
 * What became of one request. `stop` marks a refusal no other request can escape
 * (Koala refused the key): the replay stops, leaving these events unsettled for a
 * resumed run instead of dead-lettering the whole archive.
 */
export type SinkOutcome = { ok: true; status: string } | { ok: false; status: string; reason: DeadLetterReason; stop?: boolean }

/** Where a replay's closed requests go: Koala, or a dry run's NDJSON output. */
export interface ReplaySink {
  /**
   * False when no request can fail (a dry run): the replay then keeps no copy of the
   * events it holds for dead letters, which on a dry run cost ~12% of the CPU (measured) in garbage collection.
   */
  readonly canRefuse: boolean
  /** Takes a closed request; calls `settled` exactly once, now or later, with its outcome. */
  submit(request: OutboundRequest, settled: (outcome: SinkOutcome) => void): void
  /** Requests taken and not yet started: while there are some, closing open requests early would only make them smaller. */
  backlog(): number
  /** Undefined when the sink can take more now; else resolves when it can (an output stream's backpressure). */
  ready(): Promise<void> | undefined
  /** Resolves once every submitted request has settled and the output is flushed. */
  close(): Promise<void>
}
