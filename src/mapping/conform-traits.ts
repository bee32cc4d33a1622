import type { EmailNormalizer } from './identity'

/**
 * Koala's schema types a few well-known traits (`vip` boolean, `headcount` integer,
 * `traits.email` an email...). One badly typed trait must not cost the whole identify,
 * so each is converted when that loses nothing ("true" → true, "50" → 50, 5 → "5")
 * and otherwise left out, with a note saying so.
 */
type TraitType = 'string' | 'boolean' | 'integer' | 'email'

export const PROFILE_TRAIT_TYPES: Readonly<Record<string, TraitType>> = {
  email: 'email',
  billing_plan: 'string',
  vip: 'boolean',
  is_current_customer: 'boolean'
}

export const ACCOUNT_TRAIT_TYPES: Readonly<Record<string, TraitType>> = {
  group_id: 'string',
  billing_plan: 'string',
  vip: 'boolean',
  headcount: 'integer'
}

const DROP = Symbol('drop')

/** A copy of `traits` whose typed traits fit Koala's schema; `notes` gets one line per trait changed or left out. */
export function conformTraits(
  traits: Record<string, unknown>,
  types: Readonly<Record<string, TraitType>>,
  normalizeEmail: EmailNormalizer,
  notes: string[]
): Record<string, unknown> {
  let result = traits
  for (const name of Object.keys(types)) {
    if (!Object.prototype.hasOwnProperty.call(traits, name) || traits[name] === undefined) continue
    const value = traits[name]
    const conformed = conform(value, types[name], normalizeEmail)
    if (conformed === value) continue
    if (result === traits) result = { ...traits }
    if (conformed === DROP) {
      delete result[name]
      notes.push(`traits.${name} left out: Koala wants ${article(types[name])}`)
    } else {
      result[name] = conformed
    }
  }
  return result
}

function conform(value: unknown, type: TraitType, normalizeEmail: EmailNormalizer): unknown {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : DROP
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true'
      return DROP
    case 'integer':
      if (Number.isInteger(value)) return value
      if (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim())
      return DROP
    case 'email': {
      const email = normalizeEmail(value)
      return typeof email === 'string' ? email : DROP
    }
  }
}

function article(type: TraitType): string {
  return type === 'integer' ? 'an integer' : type === 'email' ? 'an email address' : `a ${type}`
}
