import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * The one logger. We log summaries we build (counts, statuses, codes, pointers),
 * never raw events, request bodies or HTTP client errors; redaction is the second line
 * of defence for fields that should never be there anyway.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
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
