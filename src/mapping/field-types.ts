import { MappingError } from '../errors'
import { childPointer } from '../json/json-pointer'
import type { PartnerAction } from './mapping-file-schema'

/** What a partner-action field must hold once mapped, as Segment's Koala actions type them. */
type FieldType = 'string' | 'id' | 'object' | 'domain'

const PERSON: Record<string, FieldType> = {
  email: 'string',
  profile_id: 'string',
  device_ip: 'string',
  context: 'object',
  sent_at: 'string',
  message_id: 'id'
}

const FIELD_TYPES: Record<PartnerAction, Record<string, FieldType>> = {
  track: { ...PERSON, event: 'string', properties: 'object', traits: 'object' },
  identify: { ...PERSON, traits: 'object' },
  page: { ...PERSON, name: 'string', properties: 'object', traits: 'object' },
  group: { sent_at: 'string', message_id: 'id', domain: 'domain', account_id: 'id', group_id: 'id', traits: 'object' }
}

const WANTED: Record<FieldType, string> = {
  string: 'a string',
  id: 'a string or a number',
  object: 'an object',
  domain: 'a string or a list of candidates'
}

/**
 * Refuses a field whose value is a literal of a type the field can never take (`"traits":
 * "abc"`, `"event": 5`): what a directive gives is known only per event, and is checked then.
 */
export function checkFieldTypes(action: PartnerAction, mapping: Record<string, unknown>, pointer: string): MappingError[] {
  const problems: MappingError[] = []
  const types = FIELD_TYPES[action]
  for (const field of Object.keys(mapping)) {
    const type = types[field]
    const value = mapping[field]
    if (type === undefined || isDirective(value) || value === null || fits(value, type)) continue
    problems.push(new MappingError(childPointer(pointer, field), `"${field}" must be ${WANTED[type]} (or a directive that gives one), not ${kindOf(value)}`))
  }
  return problems
}

function fits(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string'
    case 'id':
      return typeof value === 'string' || typeof value === 'number'
    case 'object':
      return typeof value === 'object' && !Array.isArray(value)
    case 'domain':
      return typeof value === 'string' || Array.isArray(value)
  }
}

function isDirective(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).some((key) => key.startsWith('@'))
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}
