import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * The one logger. We log summaries we build (counts, statuses, codes, pointers),
 * never raw events, request bodies or axios errors; redaction is the second line
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

/** `a***@example.com`: enough to recognise a person in a log, not enough to read the address. */
export function maskEmail(email: string): string {
  const at = email.indexOf('@')
  if (at < 1) return '***'
  return `${email[0]}***${email.slice(at)}`
}
