import { isIP } from 'node:net'
import { bodyFields } from '../koala/body-fields'
import type { BodyFields, Person } from '../koala/request-schema'
import { isJsonObject as isPlainObject } from '../json/json-object'
import { conformTraits, PROFILE_TRAIT_TYPES } from './conform-traits'
import type { EmailNormalizer } from './identity'

/** What a person's builder hands over: the mapped fields, the person, and where notes go. */
export type PersonFieldsContext = {
  mapped: Record<string, unknown>
  person: Person
  normalizeEmail: EmailNormalizer
  notes: string[]
}

/**
 * A track or page mapping's `traits` (Segment: `$.context.traits`) with Koala's typed
 * traits conformed; undefined, with a note, when it is not an object.
 */
export function eventTraits({ mapped, normalizeEmail, notes }: PersonFieldsContext): Record<string, unknown> | undefined {
  if (isPlainObject(mapped.traits)) return conformTraits(mapped.traits, PROFILE_TRAIT_TYPES, normalizeEmail, notes)
  if (mapped.traits !== undefined && mapped.traits !== null) notes.push('traits left out: not an object')
  return undefined
}

/**
 * Adds to a person's entry what Koala's own Segment integration puts there besides the
 * action's own fields (the person's `email`, `device_ip`), makes every email in it read
 * as the person's does (normalised the same way), and returns the request's body
 * fields: `traits`, and `ip` from `ipHolder.ip` (properties or traits) else `device_ip`.
 */
export function addPersonFields(
  entry: Record<string, unknown>,
  context: PersonFieldsContext,
  traits: Record<string, unknown> | undefined,
  ipHolder: unknown
): BodyFields | undefined {
  const { mapped, person, normalizeEmail, notes } = context
  if (person.email !== undefined) entry.email = person.email
  const deviceIp = ipAddress(mapped.device_ip, 'device_ip', notes)
  if (deviceIp !== undefined) entry.device_ip = deviceIp
  const ip = (isPlainObject(ipHolder) ? ipAddress(ipHolder.ip, 'ip', notes) : undefined) ?? deviceIp

  if (isPlainObject(entry.context) && isPlainObject(entry.context.traits)) {
    const raw = entry.context.traits
    // The default mapping reads traits from context.traits: conform that object once.
    const conformed = raw === mapped.traits && traits !== undefined ? traits : conformTraits(raw, PROFILE_TRAIT_TYPES, normalizeEmail, [])
    if (conformed !== raw) entry.context = { ...entry.context, traits: conformed }
  }
  if (isPlainObject(entry.properties) && typeof entry.properties.email === 'string') {
    const email = normalizeEmail(entry.properties.email)
    if (typeof email === 'string' && email !== entry.properties.email) entry.properties = { ...entry.properties, email }
  }
  return bodyFields(traits, ip)
}

/** An IPv4 or IPv6 address, trimmed; anything else is left out with a note. */
function ipAddress(value: unknown, field: string, notes: string[]): string | undefined {
  if (value === undefined || value === null) return undefined
  const ip = typeof value === 'string' ? value.trim() : ''
  if (ip === '' && typeof value === 'string') return undefined
  if (isIP(ip) !== 0) return ip
  notes.push(`${field} left out: not an IP address`)
  return undefined
}
