import type { BodyFields } from './request-schema'

/**
 * The body fields of one request from those of its entries, in the order they came:
 * traits merged key by key (a later value wins, as applying them one after another
 * would leave the profile), and the newest `ip`. Keys come in one order (traits, ip),
 * so a request built from objects and one built from text read the same.
 */
export function mergeBodyFields(list: readonly BodyFields[]): BodyFields | undefined {
  let traits: Record<string, unknown> | undefined
  let ip: string | undefined
  for (const fields of list) {
    if (fields.traits !== undefined && fields.traits !== traits) {
      // Spread, not Object.assign: an own "__proto__" key in event data stays a key.
      traits = traits === undefined ? fields.traits : { ...traits, ...fields.traits }
    }
    if (fields.ip !== undefined) ip = fields.ip
  }
  return bodyFields(traits, ip)
}

/** Body fields with only the keys that have a value, always in the same order; undefined when none has. */
export function bodyFields(traits: Record<string, unknown> | undefined, ip: string | undefined): BodyFields | undefined {
  if (traits === undefined && ip === undefined) return undefined
  const fields: BodyFields = {}
  if (traits !== undefined) fields.traits = traits
  if (ip !== undefined) fields.ip = ip
  return fields
}
