import { isJsonObject } from '../json/json-object'
import { isNonEmptyString, isNumber, isString, object, optional, type Check } from './value-checks'

/*
 * A plain-function mirror of the SegmentEvent zod schema (event-schema.ts), for the
 * hot path: zod's loose objects copy every event they accept, which cost the replay
 * ~8% of its time and more in garbage collection. This check copies nothing. zod
 * stays the source of the types and of every error message: a value this refuses is
 * parsed by zod to say why. test/segment/conforms-to-spec.test.ts holds the two to
 * the same answers.
 */

// The fields every call shares, then each call type's own.
const isId: Check = (value) => value === null || isString(value) || isNumber(value)
const isNullableString: Check = (value) => value === null || isString(value)

const COMMON: ReadonlyArray<readonly [string, Check]> = [
  ['messageId', optional((value) => isString(value) || isNumber(value))],
  ['userId', optional(isId)],
  ['anonymousId', optional(isId)],
  ['timestamp', optional(isString)],
  ['originalTimestamp', optional(isString)],
  ['sentAt', optional(isString)],
  ['receivedAt', optional(isString)],
  ['context', optional(isJsonObject)],
  ['integrations', optional(isJsonObject)],
  ['channel', optional(isString)],
  ['version', optional((value) => isString(value) || isNumber(value))]
]

const call = (fields: ReadonlyArray<readonly [string, Check]>): Check => object([...COMMON, ...fields])

const BY_TYPE: Record<string, Check> = {
  track: call([
    ['event', isNonEmptyString],
    ['properties', optional(isJsonObject)]
  ]),
  identify: call([['traits', optional(isJsonObject)]]),
  page: call([
    ['name', optional(isNullableString)],
    ['category', optional(isNullableString)],
    ['properties', optional(isJsonObject)]
  ]),
  screen: call([
    ['name', optional(isNullableString)],
    ['properties', optional(isJsonObject)]
  ]),
  group: call([
    ['groupId', (value) => isNonEmptyString(value) || isNumber(value)],
    ['traits', optional(isJsonObject)]
  ]),
  alias: call([['previousId', optional(isId)]])
}

/** True when SegmentEvent.safeParse would accept `value` (a JSON object); false when zod must say why. */
export function conformsToSpec(value: Record<string, unknown>): boolean {
  const type = value.type
  return typeof type === 'string' && Object.hasOwn(BY_TYPE, type) && BY_TYPE[type](value)
}
