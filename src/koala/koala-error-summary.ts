import { maskEmails } from '../json/mask-emails'

const MAX_KOALA_ERROR_CHARS = 200

/** What we keep of a Koala refusal: its status, its short `code`, its message cut short. */
export type KoalaErrorSummary = { status: number; error?: string; code?: string }

/**
 * What we pass on of Koala's error answer (in a door's answer, a dead letter's reason): its
 * status, its short `code`, and its message cut short with emails masked. Never Koala's whole
 * body, which may quote the events sent.
 */
export function koalaErrorSummary(status: number, data: unknown): KoalaErrorSummary {
  const out: KoalaErrorSummary = { status }
  const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : { error: data }
  const message = typeof fields.error === 'string' ? fields.error : typeof fields.message === 'string' ? fields.message : undefined
  if (message !== undefined) out.error = maskEmails(message.slice(0, MAX_KOALA_ERROR_CHARS))
  if (typeof fields.code === 'string' && /^[\w.-]{1,64}$/.test(fields.code)) out.code = fields.code
  return out
}
