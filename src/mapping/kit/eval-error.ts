import { AdapterError } from '../../errors'

/**
 * Runtime failures of a compiled mapping. They exist so a caller can tell "this event
 * made the mapping fail, as it would have in Segment's transform()" from a bug.
 */

/** A runtime failure where Segment's transform() would throw; `pointer` locates the directive in the mapping file. */
export class MappingEvalError extends AdapterError {
  readonly pointer: string
  readonly detail: string

  constructor(pointer: string, detail: string, options?: { cause?: unknown }) {
    super('MAPPING_FAILED', `${pointer === '' ? '/' : pointer}: ${detail}`, options)
    this.name = 'MappingEvalError'
    this.pointer = pointer
    this.detail = detail
  }
}

/**
 * Thrown by the value walkers (which know nothing of pointers) when data nests deeper
 * than they will follow; the resolver that called them turns it into a MappingEvalError.
 */
export class NestingTooDeepError extends AdapterError {
  constructor(limit: number) {
    super('MAPPING_FAILED', `data nested deeper than ${limit} levels (or cyclic)`)
    this.name = 'NestingTooDeepError'
  }
}

/** Returns `error` as a MappingEvalError located at `pointer`, keeping one that already is. */
export function toEvalError(error: unknown, pointer: string, doing: string): MappingEvalError {
  if (error instanceof MappingEvalError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new MappingEvalError(pointer, `${doing}: ${reason}`, { cause: error })
}
