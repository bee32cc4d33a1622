import type { z } from 'zod'
import { SegmentEvent, SEGMENT_EVENT_TYPES } from './event-schema'
import { findJsonLimitProblem, MAX_EVENT_DEPTH } from '../json/json-limits'
import { conformsToSpec } from './conforms-to-spec'
import type { DropReason } from '../drop-reasons'
import { pointerOf } from '../json/json-pointer'

export type ValidEvent = { ok: true; event: SegmentEvent }
export type InvalidEvent = { ok: false; reason: DropReason; detail: string }

const knownTypes = new Set<string>(SEGMENT_EVENT_TYPES)

/** Checks one decoded value against the Segment Spec; never throws. */
export function validateEvent(value: unknown): ValidEvent | InvalidEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'invalid_event', detail: `expected an event object, got ${describe(value)}` }
  }
  const type = (value as { type?: unknown }).type
  if (typeof type === 'string' && !knownTypes.has(type)) {
    return {
      ok: false,
      reason: 'unsupported_type',
      detail: `/type: "${type.slice(0, 40)}" is not a Spec call (${SEGMENT_EVENT_TYPES.join(', ')})`
    }
  }
  const tooDeep = findJsonLimitProblem(value, { maxDepth: MAX_EVENT_DEPTH })
  if (tooDeep?.kind === 'depth') {
    return { ok: false, reason: 'invalid_event', detail: `${tooDeep.pointer.slice(0, 120)}…: nested deeper than ${MAX_EVENT_DEPTH} levels` }
  }
  // The fast check accepts without copying; zod runs only to explain a refusal (or, should the two ever differ, to decide).
  if (conformsToSpec(value as Record<string, unknown>)) return { ok: true, event: value as SegmentEvent }
  const parsed = SegmentEvent.safeParse(value)
  if (!parsed.success) return { ok: false, reason: 'invalid_event', detail: formatIssues(parsed.error.issues) }
  return { ok: true, event: parsed.data }
}

/** `/path: message; /other: message`, the zod path as a JSON pointer. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${pointerOf(issue.path) || '/'}: ${issue.message}`)
    .join('; ')
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
