/**
 * Why an event was not forwarded: a closed set, so metrics, summaries and tests can
 * count them. The README lists each one.
 */
export const DROP_REASONS = {
  invalid_event: 'the event is not a valid Segment Spec call',
  unsupported_type: 'the event type is not one of the Spec calls (track, identify, page, screen, group, alias)',
  analytics_js: 'sent by analytics.js: the Koala pixel already saw it in the browser',
  skipped_library: 'sent by a library listed in the mapping file under skip.libraries',
  no_subscription: 'no subscription of the mapping file matches the event',
  no_identity: 'no usable email or profile_id for the person (or domain/account_id for a Group call)',
  mapping_error: 'a mapping directive failed on this event',
  invalid_for_koala: "the mapped entry would not pass Koala's request schema"
} as const

export type DropReason = keyof typeof DROP_REASONS
