import type { ErrorCode } from '../errors'

/** The HTTP status each error code is answered with: the one place codes become statuses. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  MAPPING_INVALID: 500,
  // Caught per event and turned into a drop; were one to reach the edge, it is about the event, which a resend will not change.
  MAPPING_FAILED: 400,
  MAPPING_NOT_FOUND: 404,
  SECRET_MISSING: 500,
  INPUT_INVALID: 400,
  USAGE: 400,
  CONFIG_INVALID: 500,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // Segment retries 5xx and 429 and never retries other 4xx: a permanent refusal must be a 400.
  KOALA_REJECTED: 400,
  // Our key or URL is wrong, not the event: Segment keeps it and retries while someone fixes it.
  KOALA_MISCONFIGURED: 503,
  KOALA_UNAVAILABLE: 503,
  // The replay's own files; the server never raises it, but a full disk is worth a resend.
  WRITE_FAILED: 503,
  // Queue mode stored nothing of the request: Segment and analytics-node send it again.
  QUEUE_FULL: 503,
  QUEUE_WRITE_FAILED: 503,
  // The replay's map threads; the server never raises it.
  REPLAY_THREAD_FAILED: 500,
  INTERNAL: 500
}
