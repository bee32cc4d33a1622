import { z } from 'zod'
import { describeIssues, issueMessages } from './describe-issues'
import { AdapterError } from '../errors'

/** The two ingestion paths a fault can target, relative to `/web/projects/:key/`. */
export const SimulatorEndpoint = z.enum(['batch', 'accounts/batch'])
export type SimulatorEndpoint = z.infer<typeof SimulatorEndpoint>

/**
 * One fault as posted to `POST /_sim/faults`. Strict, so a typo (`retry_after`)
 * is a 400 instead of a fault that silently behaves differently than intended.
 */
export const Fault = z
  .strictObject({
    status: z.number().int().min(400).max(599).optional(),
    // A number is sent as seconds; a string verbatim, so clients can be tested against HTTP-dates too.
    retryAfter: z.union([z.number().int().min(0), z.string().min(1)]).optional(),
    // Replaces the default `{error, code}` answer, e.g. `{"error":"Koala ingest suspended"}`.
    body: z.unknown().optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    drop: z.literal(true).optional(),
    times: z.number().int().min(1).max(1_000_000).default(1),
    endpoint: SimulatorEndpoint.optional()
  })
  .refine((f) => f.status !== undefined || f.latencyMs !== undefined || f.drop === true, {
    message: 'a fault needs at least one of status, latencyMs or drop'
  })
  .refine((f) => !(f.drop === true && f.status !== undefined), {
    message: 'drop and status exclude each other: a dropped connection has no status'
  })
  .refine((f) => f.status !== undefined || (f.retryAfter === undefined && f.body === undefined), {
    message: 'retryAfter and body need a status'
  })
export type Fault = z.output<typeof Fault>
export type FaultInput = z.input<typeof Fault>

/** What a matching request gets: one use of a queued fault. */
export type FaultHit = Omit<Fault, 'times'>

/** Validates one fault or an array of them (what `POST /_sim/faults` takes). */
export function parseFaults(input: unknown): { ok: true; faults: Fault[] } | { ok: false; error: z.ZodError } {
  // Not a z.union: its error for a bad single fault would only say "Invalid input".
  const schema = Array.isArray(input) ? z.array(Fault) : Fault
  const result = schema.safeParse(input, { error: issueMessages })
  if (!result.success) return { ok: false, error: result.error }
  return { ok: true, faults: [result.data].flat() }
}

/** parseFaults for code paths (options, RunningSimulator): throws with the pointer of the first problems. */
export function faultsOrThrow(input: unknown): Fault[] {
  const parsed = parseFaults(input)
  if (!parsed.ok) throw new AdapterError('INPUT_INVALID', `invalid simulator fault: ${describeIssues(parsed.error)}`)
  return parsed.faults
}

/**
 * Pending faults, consumed in FIFO order: a request takes one use of the first
 * fault whose endpoint matches it (an untargeted fault matches both endpoints).
 */
export class FaultQueue {
  private pending: Fault[] = []

  /** Queues validated faults (see parseFaults) behind the pending ones. */
  add(faults: Fault[]): void {
    this.pending.push(...faults.map((f) => ({ ...f })))
  }

  /** Takes one use of the first fault that matches `endpoint`, or undefined. */
  take(endpoint: SimulatorEndpoint): FaultHit | undefined {
    // Fast path for benchmarks: the common case is an empty queue.
    if (this.pending.length === 0) return undefined
    const index = this.pending.findIndex((f) => f.endpoint === undefined || f.endpoint === endpoint)
    if (index < 0) return undefined
    const fault = this.pending[index]
    if (fault.times <= 1) this.pending.splice(index, 1)
    else this.pending[index] = { ...fault, times: fault.times - 1 }
    const { times: _used, ...hit } = fault
    return hit
  }

  /** Pending faults, `times` being the uses left. */
  list(): Fault[] {
    return this.pending.map((f) => ({ ...f }))
  }

  /** Drops every pending fault. */
  clear(): void {
    this.pending = []
  }
}
