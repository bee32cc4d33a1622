import { z } from 'zod'
import { isJsonObject } from '../json/json-object'
import { isBoolean, isString, literal, object, optional, type Check } from '../segment/value-checks'

/*
 * A plain-function mirror of the entry schemas in request-schema.ts (KoalaEventEntry,
 * IdentifyCall, PageView, AccountIdentifyCall), for map()'s hot path: zod copies
 * every entry it accepts. zod stays the source of the types and of every message:
 * an entry this refuses is parsed by zod to say why. test/koala/entry-conforms.test.ts
 * holds the two to the same answers.
 */

/**
 * The part of a KoalaEntry (request-schema.ts) these checks read, written out here because
 * request-schema.ts imports this file: a type import back would close a cycle.
 */
type Endpoint = 'batch' | 'accounts/batch'
type EntryToCheck = { endpoint: Endpoint; kind: string; entry: unknown }

// The same expressions zod's z.iso.datetime({ offset: true }) and z.email() use.
const ISO_DATE_TIME = z.regexes.datetime({ offset: true })
const EMAIL = z.regexes.email
// The expression z.uuid() uses.
const UUID = z.regexes.uuid()

const isDateTime: Check = (value) => typeof value === 'string' && ISO_DATE_TIME.test(value)
const isEmail: Check = (value) => typeof value === 'string' && EMAIL.test(value)

const trackEvent = object([
  ['type', literal('track')],
  ['event', isString],
  ['message_id', optional(isString)],
  ['properties', optional(isJsonObject)],
  ['sent_at', optional(isDateTime)]
])

/** Profile and account identifies differ only in the traits Koala types. */
const identifyCall = (traits: ReadonlyArray<[string, Check]>): Check =>
  object([
    ['type', literal('identify')],
    ['sent_at', optional(isDateTime)],
    ['traits', optional(object(traits))]
  ])

const KINDS: Record<Endpoint, Record<string, Check>> = {
  batch: {
    events: trackEvent,
    identifies: identifyCall([
      ['email', optional(isEmail)],
      ['billing_plan', optional(isString)],
      ['vip', optional(isBoolean)],
      ['is_current_customer', optional(isBoolean)]
    ]),
    page_views: object([
      ['type', literal('page')],
      ['message_id', optional(isString)],
      ['name', optional(isString)],
      ['properties', optional(isJsonObject)],
      ['sent_at', optional(isDateTime)]
    ])
  },
  'accounts/batch': {
    events: trackEvent,
    identifies: identifyCall([
      ['group_id', optional(isString)],
      ['billing_plan', optional(isString)],
      ['vip', optional(isBoolean)],
      ['headcount', optional((value) => Number.isSafeInteger(value))]
    ])
  }
}

/** Who a request is about: ProfileBatchRequest's and AccountBatchRequest's fields besides the entry lists. */
const WHO: Record<Endpoint, { check: Check; keys: readonly [string, string] }> = {
  batch: {
    check: object([
      ['profile_id', optional((value) => typeof value === 'string' && UUID.test(value))],
      ['email', optional(isEmail)]
    ]),
    keys: ['profile_id', 'email']
  },
  'accounts/batch': {
    check: object([
      ['account_id', optional(isString)],
      ['domain', optional(isString)]
    ]),
    keys: ['account_id', 'domain']
  }
}

/** True when a request body without its entry lists passes its zod schema (one of the two keys present, each well formed). */
export function whoConforms(endpoint: Endpoint, who: Record<string, unknown>): boolean {
  const { check, keys } = WHO[endpoint]
  return check(who) && (who[keys[0]] !== undefined || who[keys[1]] !== undefined)
}

/** True when the entry's zod schema would accept it; false when zod must say why. */
export function entryConforms(entry: EntryToCheck): boolean {
  const check = KINDS[entry.endpoint][entry.kind]
  return check !== undefined && check(entry.entry)
}
