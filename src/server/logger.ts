import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * The one logger. We log summaries we build (counts, statuses, codes, pointers),
 * never raw events, request bodies or HTTP client errors; redaction is the second line
 * of defence for fields that should never be there anyway.
 */
export function createLogger(level: string, destination: DestinationStream = asyncStdout()): Logger {
  return pino(
    {
      level,
      base: { service: 'segment-koala-adapter' },
      redact: {
        paths: [
          'email',
          '*.email',
          'headers.authorization',
          'headers["x-signature"]',
          'publicApiKey',
          '*.publicApiKey',
          'writeKey',
          '*.writeKey',
          'secret',
          '*.secret',
          'url',
          'config.url'
        ],
        censor: '[redacted]'
      }
    },
    destination
  )
}

/** Log lines queued at most while stdout does not keep up; beyond this they are dropped, never the service stalled. */
const MAX_QUEUED_LOG_BYTES = 16 * 1024 * 1024

/**
 * Stdout written off the event loop: one line per door request would otherwise cost a
 * blocking write each (about a tenth of the door's CPU). Lines queue while a write is
 * under way and go out together; nothing waits for a quiet period, and pino flushes
 * what is queued when the process exits. A stalled reader (a stuck log shipper) costs
 * at most MAX_QUEUED_LOG_BYTES of memory, then lines, not requests.
 */
function asyncStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, maxLength: MAX_QUEUED_LOG_BYTES })
}
