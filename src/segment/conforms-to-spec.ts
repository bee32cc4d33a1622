import { isJsonObject } from './json-object'

/*
 * A plain-function mirror of the SegmentEvent zod schema (event-schema.ts), for the
 * hot path: zod's loose objects copy every event they accept, which cost the replay
 * ~8% of its time and more in garbage collection. This check copies nothing. zod
 * stays the source of the types and of every error message: a value this refuses is
 * parsed by zod to say why. test/segment/conforms-to-spec.test.ts holds the two to
 * the same answers.
 */

type Check = (value: unknown) => boolean

const optional = (check: Check): Check => (value) => value === undefined || check(value)
const isString: Check = (value) => typeof value === 'string'
// zod's z.number() refuses NaN and ±Infinity.
const isNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value)
const isId: Check = (value) => value === null || isString(value) || isNumber(value)
const isObject: Check = isJsonObject
const isNullableString: Check = (value) => value === null || isString(value)

const COMMON: ReadonlyArray<[string, Check]> = [
  ['messageId', optional(isString)],
  ['userId', optional(isId)],
  ['anonymousId', optional(isId)],
  ['timestamp', optional(isString)],
  ['originalTimestamp', optional(isString)],
  ['sentAt', optional(isString)],
  ['receivedAt', optional(isString)],
  ['context', optional(isObject)],
  ['integrations', optional(isObject)],
  ['channel', optional(isString)],
  ['version', optional((value) => isString(value) || isNumber(value))]
]

const BY_TYPE: Record<string, ReadonlyArray<[string, Check]>> = {
  track: [
    ['event', (value) => typeof value === 'string' && value.length > 0],
    ['properties', optional(isObject)]
  ],
  identify: [['traits', optional(isObject)]],
  page: [
    ['name', optional(isNullableString)],
    ['category', optional(isNullableString)],
    ['properties', optional(isObject)]
  ],
  screen: [
    ['name', optional(isNullableString)],
    ['properties', optional(isObject)]
  ],
  group: [
    ['groupId', (value) => (typeof value === 'string' && value.length > 0) || isNumber(value)],
    ['traits', optional(isObject)]
  ],
  alias: [['previousId', optional(isId)]]
}

/** True when SegmentEvent.safeParse would accept `value` (a JSON object); false when zod must say why. */
export function conformsToSpec(value: Record<string, unknown>): boolean {
  const type = value.type
  const fields = typeof type === 'string' && Object.hasOwn(BY_TYPE, type) ? BY_TYPE[type] : undefined
  if (fields === undefined) return false
  for (const [key, check] of COMMON) if (!check(value[key])) return false
  for (const [key, check] of fields) if (!check(value[key])) return false
  return true
}
