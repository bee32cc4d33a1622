/**
 * Every error the adapter raises on purpose: a stable `code`, a message that says
 * what to fix, and the `cause` when there is one. Only the doors (CLI, server) turn
 * codes into exit statuses or HTTP statuses.
 */
export const ERROR_CODES = {
  MAPPING_INVALID: 'a mapping file is malformed or refers to something that does not exist',
  MAPPING_FAILED: 'a mapping failed on one event where Segment\'s transform() fails too: that event is dropped (mapping_error), not the request',
  MAPPING_NOT_FOUND: 'no mapping file for the requested workspace',
  SECRET_MISSING: 'an { "env": NAME } reference names an unset environment variable',
  INPUT_INVALID: 'input events could not be read, or a request body is not what the door takes',
  USAGE: 'the command line is wrong',
  CONFIG_INVALID: 'a setting (environment variable or flag) has a value it does not take, or the port cannot be listened on',
  UNAUTHORIZED: 'a webhook signature or a write key is missing or wrong',
  NOT_FOUND: 'no such route or workspace',
  BODY_TOO_LARGE: 'a request body or batch is over its limit',
  UNSUPPORTED_MEDIA_TYPE: 'a request body is not JSON, or its Content-Encoding is unknown',
  KOALA_UNAVAILABLE: 'Koala kept failing (5xx, 429, timeouts) within the time allowed',
  KOALA_REJECTED: 'Koala refused events for good (400, 413, 422): its verdict on the events themselves',
  KOALA_MISCONFIGURED: 'Koala refused our key or URL (401, 403, 404, other 4xx): our configuration is wrong, not the events',
  WRITE_FAILED: 'a file the replay writes (dead letters, checkpoint) could not be written: a full disk, a quota, permissions',
  QUEUE_FULL: 'the queue store holds its QUEUE_MAX_ENTRIES or QUEUE_MAX_BYTES: nothing of the request was stored',
  QUEUE_WRITE_FAILED: 'the queue store (its disk or database) refused a write: nothing of the request was stored',
  REPLAY_THREAD_FAILED: 'a replay map thread ran out of memory or failed: the run stops, its checkpoint at what was settled',
  INTERNAL: 'a bug of ours; the request can be retried'
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export class AdapterError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AdapterError'
    this.code = code
  }
}

/**
 * A problem at one place of a mapping file. `pointer` is an RFC 6901 JSON pointer
 * into the file; `file` is filled in by the loader, which is the only one that knows it.
 */
export class MappingError extends AdapterError {
  readonly pointer: string
  readonly detail: string
  file: string | undefined

  constructor(pointer: string, detail: string, file?: string) {
    super('MAPPING_INVALID', formatMappingProblem(file, pointer, detail))
    this.name = 'MappingError'
    this.pointer = pointer
    this.detail = detail
    this.file = file
  }

  /** Returns the same problem, located in `file`. */
  inFile(file: string): MappingError {
    return new MappingError(this.pointer, this.detail, file)
  }
}

/** `<file>: <pointer>: <message>`, the one format every mapping problem is shown in. */
export function formatMappingProblem(file: string | undefined, pointer: string, detail: string): string {
  const where = pointer === '' ? '/' : pointer
  return file === undefined ? `${where}: ${detail}` : `${file}: ${where}: ${detail}`
}

/** Every problem found in one mapping file, so `check` can list them all at once. */
export class MappingProblems extends AdapterError {
  readonly problems: MappingError[]

  constructor(problems: MappingError[]) {
    super('MAPPING_INVALID', problems.map((problem) => problem.message).join('\n'))
    this.name = 'MappingProblems'
    this.problems = problems
  }

  /** Returns the same problems, located in `file`. */
  inFile(file: string): MappingProblems {
    return new MappingProblems(this.problems.map((problem) => problem.inFile(file)))
  }
}
