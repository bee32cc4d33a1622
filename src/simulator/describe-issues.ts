import type { z } from 'zod'
import { pointerOf } from '../json/json-pointer'

/**
 * Per-parse zod messages: zod's own say "received undefined" where a client
 * author needs to read "required".
 */
export const issueMessages: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type') return undefined
  if (issue.input === undefined) return `required, expected ${issue.expected}`
  return `expected ${issue.expected}, got ${typeOf(issue.input)}`
}

/** `/events/3/event: required, expected string; ...`: the first `max` issues, each at its JSON pointer. */
export function describeIssues(error: z.ZodError, max = 3): string {
  const shown = error.issues.slice(0, max).map((issue) => {
    const pointer = pointerOf(issue.path)
    // Same convention as the mapping errors: the document root is shown as `/`.
    return `${pointer === '' ? '/' : pointer}: ${issue.message.replace(/^Invalid input: /, '')}`
  })
  const more = error.issues.length - shown.length
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '')
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}
