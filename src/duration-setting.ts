import { z } from 'zod'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(\d+)(ms|s|m|h|d)?$/

/** What a duration setting takes, for its error message and the README. */
export const DURATION_TAKES = 'a duration: whole milliseconds (604800000), or a whole number with a unit ms, s, m, h or d (7d, 12h, 30m, 90s)'

/** A duration setting (QUEUE_MAX_AGE): whole ms, or a number with a unit; parsed to ms, at least 1. */
export function durationMs(fallback: string) {
  return z
    .union([z.number(), z.string()])
    .default(fallback)
    .transform((value, ctx) => {
      const match = DURATION.exec(String(value).trim())
      const ms = match === null ? NaN : Number(match[1]) * UNIT_MS[match[2] ?? 'ms']
      if (!Number.isSafeInteger(ms) || ms < 1) {
        ctx.addIssue({ code: 'custom', message: `allowed: ${DURATION_TAKES}` })
        return z.NEVER
      }
      return ms
    })
}
