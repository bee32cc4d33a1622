import { z } from 'zod'
import { pointerOf } from '../json/json-pointer'
import { JsonObject } from '../json/json-object'
import { entryConforms, whoConforms } from './entry-conforms'
import { AdapterError } from '../errors'

/**
 * A zod mirror of Koala's OpenAPI request schemas (../shared/seeds/001, 003).
 * Every body we send passes these first, so a malformed request is our bug,
 * caught here, and never a 400 from Koala that fails a whole batch.
 */

/** Koala's per-kind limit for one request (OpenAPI `maxItems: 30`). */
export const MAX_ENTRIES_PER_KIND = 30

const isoDateTime = z.iso.datetime({ offset: true })
// The OpenAPI's `type: object, additionalProperties: true`.
const jsonObject = JsonObject

export const KoalaEventEntry = z.looseObject({
  type: z.literal('track'),
  event: z.string(),
  message_id: z.string().optional(),
  properties: jsonObject.optional(),
  sent_at: isoDateTime.optional()
})
export type KoalaEventEntry = z.infer<typeof KoalaEventEntry>

export const IdentifyCall = z.looseObject({
  type: z.literal('identify'),
  sent_at: isoDateTime.optional(),
  traits: z
    .looseObject({
      email: z.email().optional(),
      billing_plan: z.string().optional(),
      vip: z.boolean().optional(),
      is_current_customer: z.boolean().optional()
    })
    .optional()
})
export type IdentifyCall = z.infer<typeof IdentifyCall>

export const PageView = z.looseObject({
  type: z.literal('page'),
  message_id: z.string().optional(),
  name: z.string().optional(),
  properties: jsonObject.optional(),
  sent_at: isoDateTime.optional()
})
export type PageView = z.infer<typeof PageView>

export const AccountIdentifyCall = z.looseObject({
  type: z.literal('identify'),
  sent_at: isoDateTime.optional(),
  traits: z
    .looseObject({
      group_id: z.string().optional(),
      billing_plan: z.string().optional(),
      vip: z.boolean().optional(),
      headcount: z.number().int().optional()
    })
    .optional()
})
export type AccountIdentifyCall = z.infer<typeof AccountIdentifyCall>

export const ProfileBatchRequest = z
  .looseObject({
    profile_id: z.uuid().optional(),
    email: z.email().optional(),
    events: z.array(KoalaEventEntry).max(MAX_ENTRIES_PER_KIND).optional(),
    identifies: z.array(IdentifyCall).max(MAX_ENTRIES_PER_KIND).optional(),
    page_views: z.array(PageView).max(MAX_ENTRIES_PER_KIND).optional()
  })
  .refine((body) => body.profile_id !== undefined || body.email !== undefined, {
    message: 'needs profile_id or email'
  })
export type ProfileBatchRequest = z.infer<typeof ProfileBatchRequest>

export const AccountBatchRequest = z
  .looseObject({
    account_id: z.string().optional(),
    domain: z.string().optional(),
    identifies: z.array(AccountIdentifyCall).max(MAX_ENTRIES_PER_KIND).optional(),
    events: z.array(KoalaEventEntry).max(MAX_ENTRIES_PER_KIND).optional()
  })
  .refine((body) => body.account_id !== undefined || body.domain !== undefined, {
    message: 'needs account_id or domain'
  })
export type AccountBatchRequest = z.infer<typeof AccountBatchRequest>

/** Who a profile request is about: the exact pair decides which requests entries may share. */
export type Person = { profile_id?: string; email?: string }
/** Which company an account request is about. */
export type Account = { account_id?: string; domain?: string }

/**
 * What a person's entry adds to its /batch request's body besides who it is about, as
 * Koala's own Segment integration sends it: the person's `traits` and the `ip` Koala
 * turns into a company. Extra fields, which Koala's schema allows.
 */
export type BodyFields = { traits?: Record<string, unknown>; ip?: string }

/** One Koala entry and where it goes, before batching. */
export type KoalaEntry =
  | { endpoint: 'batch'; person: Person; bodyFields?: BodyFields; kind: 'events'; entry: KoalaEventEntry }
  | { endpoint: 'batch'; person: Person; bodyFields?: BodyFields; kind: 'identifies'; entry: IdentifyCall }
  | { endpoint: 'batch'; person: Person; bodyFields?: BodyFields; kind: 'page_views'; entry: PageView }
  | { endpoint: 'accounts/batch'; account: Account; kind: 'identifies'; entry: AccountIdentifyCall }
  | { endpoint: 'accounts/batch'; account: Account; kind: 'events'; entry: KoalaEventEntry }

/** One request body ready for Koala. */
export type KoalaRequest =
  | { endpoint: 'batch'; body: ProfileBatchRequest }
  | { endpoint: 'accounts/batch'; body: AccountBatchRequest }

/**
 * A request whose body is already JSON text, built from entries map() checked (the
 * replay's map threads turn entries into text off the main thread). `who` is whoKey
 * (who.ts) of the person or account it is about, so a sink can keep one person's requests in order.
 */
export type RenderedRequest = { endpoint: KoalaEntry['endpoint']; body: string; who: string }

/** What a sink or the client takes: a request as objects, or rendered. */
export type OutboundRequest = KoalaRequest | RenderedRequest

const entrySchemas = {
  batch: { events: KoalaEventEntry, identifies: IdentifyCall, page_views: PageView },
  'accounts/batch': { events: KoalaEventEntry, identifies: AccountIdentifyCall }
} as const

/** Returns why an entry would fail Koala's schema (as `/pointer: message`), or undefined when it passes. */
export function checkEntry(entry: KoalaEntry): string | undefined {
  // The fast check accepts without copying; zod runs only to explain a refusal.
  if (entryConforms(entry)) return undefined
  const schemas = entrySchemas[entry.endpoint] as Record<string, z.ZodType>
  const result = schemas[entry.kind].safeParse(entry.entry)
  if (result.success) return undefined
  return result.error.issues
    .slice(0, 3)
    .map((issue) => `${pointerOf(issue.path, `/${entry.kind}/0`)}: ${issue.message}`)
    .join('; ')
}

/** Throws when a request body would not pass Koala's schema: that is a bug in our batching, never bad input. */
export function assertValidRequest(request: KoalaRequest): KoalaRequest {
  const schema = request.endpoint === 'batch' ? ProfileBatchRequest : AccountBatchRequest
  const result = schema.safeParse(request.body)
  if (!result.success) {
    const first = result.error.issues[0]
    throw new AdapterError('INTERNAL', `a ${request.endpoint} body fails Koala's schema at /${first.path.join('/')}: ${first.message}`)
  }
  return request
}

const ENTRY_LISTS = new Set(['events', 'identifies', 'page_views'])

/**
 * assertValidRequest for a body made only of entries that each passed checkEntry: the
 * body schema is then checked on the body without its lists (the person or account,
 * and that it has one), plus each list's length. Equivalent to the whole check for such
 * bodies (test/koala/request-schema.test.ts compares the two), at a fraction of the cost.
 */
export function assertValidRequestOfCheckedEntries(request: KoalaRequest): KoalaRequest {
  const body = request.body as Record<string, unknown>
  const who: Record<string, unknown> = {}
  for (const key in body) {
    const value = body[key]
    if (!ENTRY_LISTS.has(key) || !Array.isArray(value)) who[key] = value
    else if (value.length > MAX_ENTRIES_PER_KIND) throw new AdapterError('INTERNAL', `a ${request.endpoint} body fails Koala's schema at /${key}: more than ${MAX_ENTRIES_PER_KIND} entries`)
  }
  // The fast check accepts without zod (~0.5 µs per request, on every request a door sends); zod explains a refusal.
  if (!whoConforms(request.endpoint, who)) assertValidRequest({ endpoint: request.endpoint, body: who } as KoalaRequest)
  return request
}
