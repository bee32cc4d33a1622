import { AdapterError } from '../errors'

/** QUEUE_FULL: the append would pass a limit; nothing of it was stored. */
export function queueFull(limit: 'entries' | 'bytes', max: number): AdapterError {
  return new AdapterError('QUEUE_FULL', `the queue is full (over its ${max} ${limit}); nothing of this request was stored, send it again later`)
}

/**
 * QUEUE_WRITE_FAILED for a write the disk or database refused. Only the driver's code and
 * message are kept, and not the error itself as `cause`: PostgreSQL's `detail` can quote a
 * row, and rows hold emails.
 */
export function queueWriteFailed(what: string, error: unknown): AdapterError {
  const code = (error as { code?: unknown })?.code
  const message = error instanceof Error ? error.message : String(error)
  return new AdapterError('QUEUE_WRITE_FAILED', `the queue store refused ${what}: ${typeof code === 'string' ? `${code}: ` : ''}${message}`)
}
