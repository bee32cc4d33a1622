import { AdapterError } from '../errors'

/** QUEUE_FULL: the append would pass a limit; nothing of it was stored. */
export function queueFull(limit: 'entries' | 'bytes', max: number): AdapterError {
  return new AdapterError('QUEUE_FULL', `the queue is full (over its ${max} ${limit}); nothing of this request was stored, send it again later`)
}

/**
 * QUEUE_WRITE_FAILED for a write the disk or database refused. Only the driver's code and
 * message are kept (the code also as `cause`, for refusedData), and not the error itself:
 * PostgreSQL's `detail` can quote a row, and rows hold emails.
 */
export function queueWriteFailed(what: string, error: unknown): AdapterError {
  const code = (error as { code?: unknown })?.code
  const message = error instanceof Error ? error.message : String(error)
  return new AdapterError('QUEUE_WRITE_FAILED', `the queue store refused ${what}: ${typeof code === 'string' ? `${code}: ` : ''}${message}`, {
    cause: typeof code === 'string' ? { code } : undefined
  })
}

/**
 * True for a write PostgreSQL refused for what it held (SQLSTATE class 22, data exception, as
 * a NUL in text; 23, integrity constraint): another try of the same rows fails the same way,
 * unlike a lost connection or a timeout.
 */
export function refusedData(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } })?.cause?.code
  return error instanceof AdapterError && error.code === 'QUEUE_WRITE_FAILED' && typeof code === 'string' && /^2[23]/.test(code)
}

/**
 * What the door answers for QUEUE_WRITE_FAILED: the driver's message names hosts, users and
 * paths, so it goes to the log only.
 */
export const QUEUE_WRITE_FAILED_ANSWER = 'the queue store could not store the request; send it again later'
