import { MappingError, MappingProblems } from '../errors'
import { childPointer } from '../json/json-pointer'
import type { DropReason } from '../drop-reasons'
import { checkEntry, type KoalaEntry, type Person } from '../koala/request-schema'
import { messageIdOf } from '../segment/message-id'
import { validateEvent } from '../segment/validate-event'
import type { SegmentEvent } from '../segment/event-schema'
import { checkFieldTypes } from './field-types'
import { compileIdentity, INVALID, normalizeProfileId, type IdentityResolver } from './identity'
import { compileMappingKit, MappingEvalError } from './kit/compile-mapping-kit'
import type { MappingFile, PartnerAction } from './mapping-file-schema'
import { PARTNER_ACTION_BUILDERS } from './partner-actions'
import { compileSubscription, type EventPredicate } from './subscription'

/** Why --explain says an event went where it went. */
export type Explanation = {
  matched: string[]
  identity: { email: string | null; profile_id: string | null }
  notes: string[]
}

/** The outcome of mapping one event: Koala entries to send, or a drop with its reason. */
export type MapResult =
  | { outcome: 'send'; messageId: string | null; entries: KoalaEntry[]; explain?: Explanation }
  | { outcome: 'drop'; messageId: string | null; reason: DropReason; detail: string; explain?: Explanation }

/** A mapping file compiled once; `map()` runs on plain functions and objects only. */
export type CompiledMapping = {
  readonly config: MappingFile
  /**
   * Maps one event, given as JSON data (what JSON.parse makes). The entries may share objects
   * with the event (its `properties`, say): neither may be changed afterwards.
   */
  map(value: unknown, options?: { explain?: boolean }): MapResult
}

type CompiledSubscription = {
  name: string
  action: PartnerAction
  matches: EventPredicate
  mapping: (event: unknown) => Record<string, unknown>
  /** Subscription-level identity overrides (Segment's Koala action has these fields). */
  overridesPerson: boolean
}

const SKIP_REASON: Record<string, DropReason> = { 'analytics.js': 'analytics_js' }

/**
 * Compiles a parsed mapping file into a mapper. Collects every problem it finds and
 * throws them together as MappingProblems, each with its JSON pointer.
 */
export function compileMapping(config: MappingFile): CompiledMapping {
  const problems: MappingError[] = []
  const attempt = <T>(build: () => T): T | undefined => {
    try {
      return build()
    } catch (error) {
      if (error instanceof MappingError) problems.push(error)
      else if (error instanceof MappingProblems) problems.push(...error.problems)
      else throw error
      return undefined
    }
  }

  const identity = attempt(() => compileIdentity(config.identity, '/identity'))
  const subscriptions: CompiledSubscription[] = []
  config.subscriptions.forEach((subscription, i) => {
    const pointer = childPointer('/subscriptions', i)
    const matches = attempt(() => compileSubscription(subscription.subscribe, childPointer(pointer, 'subscribe')))
    const fields = subscription.mapping as Record<string, unknown>
    const mapping = attempt(() => {
      const typeProblems = checkFieldTypes(subscription.partnerAction, fields, childPointer(pointer, 'mapping'))
      if (typeProblems.length > 0) throw new MappingProblems(typeProblems)
      return compileMappingKit(subscription.mapping, childPointer(pointer, 'mapping'), { jsonPayload: true })
    })
    if (matches === undefined || mapping === undefined || !subscription.enabled) return
    subscriptions.push({
      name: subscription.name,
      action: subscription.partnerAction,
      matches,
      mapping,
      overridesPerson: fields.email !== undefined || fields.profile_id !== undefined
    })
  })
  if (problems.length > 0 || identity === undefined) throw new MappingProblems(problems)

  const skipped = new Set(config.skip?.libraries ?? [])
  const skippedTypes = new Set<string>(config.skip?.types ?? [])
  return {
    config,
    map: (value, options) => mapEvent(value, { identity, subscriptions, skipped, skippedTypes }, options?.explain === true)
  }
}

type Compiled = { identity: IdentityResolver; subscriptions: CompiledSubscription[]; skipped: Set<string>; skippedTypes: Set<string> }

function mapEvent(value: unknown, compiled: Compiled, explain: boolean): MapResult {
  const messageId = messageIdOf(value)
  const checked = validateEvent(value)
  if (!checked.ok) return { outcome: 'drop', messageId, reason: checked.reason, detail: checked.detail }
  const event = checked.event

  const library = libraryOf(event)
  if (library !== undefined && compiled.skipped.has(library) && compiled.skippedTypes.has(event.type)) {
    return {
      outcome: 'drop',
      messageId,
      reason: SKIP_REASON[library] ?? 'skipped_library',
      detail: `a ${event.type} call from "${library}" (skip.libraries, skip.types)`
    }
  }

  const matched = compiled.subscriptions.filter((subscription) => subscription.matches(event))
  if (matched.length === 0) {
    return { outcome: 'drop', messageId, reason: 'no_subscription', detail: `no subscription matches this ${event.type} call` }
  }

  // Group calls go to accounts: only a person's call looks for a person.
  const needsPerson = matched.some((subscription) => subscription.action !== 'group')
  const workspace = needsPerson ? compiled.identity.resolve(event) : { person: {}, from: {}, notes: [] as string[] }
  const explanation: Explanation | undefined = explain
    ? {
        matched: matched.map((subscription) => subscription.name),
        identity: { email: workspace.from.email ?? null, profile_id: workspace.from.profile_id ?? null },
        notes: [...workspace.notes]
      }
    : undefined
  const entries: KoalaEntry[] = []
  const missing: string[] = []
  // Builders note what they changed or left out; only --explain shows it, so only then is it kept.
  const notes: string[] = explanation?.notes ?? []
  for (const subscription of matched) {
    let mapped: Record<string, unknown>
    try {
      mapped = subscription.mapping(event)
    } catch (error) {
      if (!(error instanceof MappingEvalError)) throw error
      // Nothing of a half-mapped event is sent: the whole event is dropped.
      return { outcome: 'drop', messageId, reason: 'mapping_error', detail: `${subscription.name}: ${error.message}`, explain: explanation }
    }
    const person = subscription.overridesPerson ? overridePerson(mapped, workspace.person, compiled.identity, explanation) : workspace.person
    const built = PARTNER_ACTION_BUILDERS[subscription.action]({ event, mapped, person, normalizeEmail: compiled.identity.normalizeEmail, notes })
    if (!built.ok) {
      missing.push(`${subscription.name}: ${built.detail}`)
      continue
    }
    const problem = checkEntry(built.entry)
    if (problem !== undefined) {
      return { outcome: 'drop', messageId, reason: 'invalid_for_koala', detail: `${subscription.name}: ${problem}`, explain: explanation }
    }
    entries.push(built.entry)
  }

  if (entries.length === 0) {
    const notes = workspace.notes.length > 0 ? ` (${workspace.notes.join('; ')})` : ''
    return {
      outcome: 'drop',
      messageId,
      reason: 'no_identity',
      detail: needsPerson ? `${missing.join('; ')}; looked for ${compiled.identity.describe()}${notes}` : missing.join('; '),
      explain: explanation
    }
  }
  if (explanation !== undefined && missing.length > 0) explanation.notes.push(...missing.map((m) => `skipped ${m}`))
  return { outcome: 'send', messageId, entries, explain: explanation }
}

/** A subscription's own email/profile_id wins; the workspace's fills what it leaves empty. */
function overridePerson(
  mapped: Record<string, unknown>,
  fallback: Person,
  identity: IdentityResolver,
  explanation: Explanation | undefined
): Person {
  const person: Person = {}
  const email = identity.normalizeEmail(mapped.email)
  const profileId = normalizeProfileId(mapped.profile_id)
  if (typeof email === 'string') person.email = email
  else if (fallback.email !== undefined) person.email = fallback.email
  if (typeof profileId === 'string') person.profile_id = profileId
  else if (fallback.profile_id !== undefined) person.profile_id = fallback.profile_id
  if (explanation !== undefined) {
    if (typeof email === 'string') explanation.identity.email = 'subscription mapping: email'
    if (typeof profileId === 'string') explanation.identity.profile_id = 'subscription mapping: profile_id'
    if (email === INVALID) explanation.notes.push('subscription mapping: email is not an email address')
    if (profileId === INVALID) explanation.notes.push('subscription mapping: profile_id is not a UUID')
  }
  return person
}

function libraryOf(event: SegmentEvent): string | undefined {
  const library = event.context?.library
  if (typeof library !== 'object' || library === null) return undefined
  const name = (library as { name?: unknown }).name
  return typeof name === 'string' ? name : undefined
}
