import { createHash } from 'node:crypto'
import type { SegmentEvent } from '../segment/event-schema'
import { isJsonObject as isPlainObject } from '../json/json-object'
import type { Account, KoalaEntry, Person } from '../koala/request-schema'
import { ACCOUNT_TRAIT_TYPES, conformTraits, PROFILE_TRAIT_TYPES } from './conform-traits'
import type { EmailNormalizer } from './identity'
import type { PartnerAction } from './mapping-file-schema'
import { findCompanyDomain } from './company-domain'
import { addPersonFields, eventTraits } from './person-fields'
import { resolveSentAt } from './sent-at'

/** What one subscription's mapping produced for one event, turned into a Koala entry. */
export type BuiltEntry =
  | { ok: true; entry: KoalaEntry }
  | { ok: false; missing: 'identity'; detail: string }

export type BuildContext = {
  event: SegmentEvent
  mapped: Record<string, unknown>
  /** The person, already resolved (subscription override first, then the workspace rule). */
  person: Person
  normalizeEmail: EmailNormalizer
  /** Where a builder says what it changed or left out (shown by --explain). */
  notes: string[]
}

/** Builds the Koala entry of each partner action from a mapped object. */
export const PARTNER_ACTION_BUILDERS: Record<PartnerAction, (ctx: BuildContext) => BuiltEntry> = {
  track(context) {
    const { event, mapped, person } = context
    if (!hasPerson(person)) return noPerson()
    const entry: Record<string, unknown> & { type: 'track'; event: string } = { type: 'track', event: mapped.event as string, ...common(event, mapped) }
    copyIfDefined(entry, mapped, 'properties')
    const traits = eventTraits(context)
    if (traits !== undefined) entry.traits = traits
    const bodyFields = addPersonFields(entry, context, traits, entry.properties)
    return { ok: true, entry: { endpoint: 'batch', person, bodyFields, kind: 'events', entry } }
  },
  identify(context) {
    const { event, mapped, person, normalizeEmail, notes } = context
    if (!hasPerson(person)) return noPerson()
    const entry: Record<string, unknown> & { type: 'identify' } = { type: 'identify', ...common(event, mapped) }
    if (isPlainObject(mapped.traits)) entry.traits = conformTraits(mapped.traits, PROFILE_TRAIT_TYPES, normalizeEmail, notes)
    else copyIfDefined(entry, mapped, 'traits')
    // Koala's own integration marks the identifies it sends.
    entry.context = { ...(isPlainObject(entry.context) ? entry.context : {}), source: 'segment-cloud' }
    const traits = isPlainObject(entry.traits) ? entry.traits : undefined
    const bodyFields = addPersonFields(entry, context, traits, traits)
    return { ok: true, entry: { endpoint: 'batch', person, bodyFields, kind: 'identifies', entry } }
  },
  page(context) {
    const { event, mapped, person } = context
    if (!hasPerson(person)) return noPerson()
    const entry: Record<string, unknown> & { type: 'page' } = { type: 'page', ...common(event, mapped) }
    // Segment sends `name: null` for unnamed pages; Koala's schema wants a string or nothing.
    if (mapped.name !== null) copyIfDefined(entry, mapped, 'name')
    copyIfDefined(entry, mapped, 'properties')
    const traits = eventTraits(context)
    if (traits !== undefined) entry.traits = traits
    const bodyFields = addPersonFields(entry, context, traits, entry.properties)
    return { ok: true, entry: { endpoint: 'batch', person, bodyFields, kind: 'page_views', entry } }
  },
  group({ event, mapped, normalizeEmail, notes }) {
    const account: Account = {}
    const search = findCompanyDomain(mapped.domain)
    const refused = search.refused.length > 0 ? `domain candidates: ${search.refused.join('; ')}` : 'no domain candidates'
    if (search.domain !== undefined) account.domain = search.domain
    if (isPresent(mapped.account_id)) account.account_id = String(mapped.account_id).trim()
    if (account.domain === undefined && account.account_id === undefined) {
      return { ok: false, missing: 'identity', detail: `no valid domain or account_id for the account (${refused})` }
    }
    if (search.from !== undefined) {
      const after = search.refused.length === 0 ? '' : ` (${refused})`
      notes.push(`domain "${search.domain}" from domain candidate [${search.from.index}] ${JSON.stringify(search.from.host)}${after}`)
    } else notes.push(`no domain, the account goes by account_id (${refused})`)
    // common() falls back to the event's context; Koala's account identifies take none.
    const { context: _context, ...entryFields } = common(event, mapped)
    const entry: Record<string, unknown> & { type: 'identify' } = { type: 'identify', ...entryFields }
    let traits = isPlainObject(mapped.traits) ? { ...mapped.traits } : mapped.traits === undefined ? {} : mapped.traits
    if (isPresent(mapped.group_id) && isPlainObject(traits)) traits.group_id = String(mapped.group_id)
    if (isPlainObject(traits)) traits = conformTraits(traits, ACCOUNT_TRAIT_TYPES, normalizeEmail, notes)
    if (!isPlainObject(traits) || Object.keys(traits).length > 0) entry.traits = traits
    return { ok: true, entry: { endpoint: 'accounts/batch', account, kind: 'identifies', entry } as KoalaEntry }
  }
}

/** `message_id`, `sent_at` and `context`, with the Spec's fall-backs when the mapping gave none. */
function common(event: SegmentEvent, mapped: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  fields.message_id = messageIdText(mapped.message_id) ?? messageIdText(event.messageId) ?? derivedMessageId(event)
  const sentAt = resolveSentAt(mapped.sent_at, event)
  if (sentAt !== undefined) fields.sent_at = sentAt
  copyIfDefined(fields, mapped, 'context')
  return fields
}

/**
 * An event without a messageId still needs an idempotency key that a retry or a
 * replay reproduces exactly, so it is derived from the event's content.
 */
function derivedMessageId(event: SegmentEvent): string {
  return 'ska-' + createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 32)
}

/** A message id as Segment sends it: a non-blank string as it is, a number as its decimal string; else undefined. */
function messageIdText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
}

function copyIfDefined(target: Record<string, unknown>, source: Record<string, unknown>, key: string): void {
  if (source[key] !== undefined) target[key] = source[key]
}

function hasPerson(person: Person): boolean {
  return person.email !== undefined || person.profile_id !== undefined
}

function noPerson(): BuiltEntry {
  return { ok: false, missing: 'identity', detail: 'no email or profile_id' }
}

function isPresent(value: unknown): boolean {
  return (typeof value === 'string' && value.trim() !== '') || typeof value === 'number'
}
