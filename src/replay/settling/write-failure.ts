import { AdapterError } from '../../errors'

/** What the OS said, for a person: the errno code, never a stack. */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EIO: 'input/output error'
}

/** The WRITE_FAILED error for `file` (what: "dead letters to", "the checkpoint"), its cause kept for debugging. */
export function writeFailure(what: string, file: string, error: unknown): AdapterError {
  const code = (error as NodeJS.ErrnoException).code
  const reason = code === undefined ? (error as Error).message : `${REASONS[code] ?? 'write error'} (${code})`
  return new AdapterError('WRITE_FAILED', `cannot write ${what} ${file}: ${reason}`, { cause: error })
}
