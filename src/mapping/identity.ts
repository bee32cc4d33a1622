import { z } from 'zod'
import { childPointer } from '../json/json-pointer'
import type { Person } from '../koala/request-schema'
import { compilePath } from './kit/compile-path'
import type { IdentityConfig } from './mapping-file-schema'

// The same patterns the Koala request mirror applies, so an identity we accept
// here can never fail the request schema later.
const EMAIL = z.regexes.email
const UUID = z.regexes.uuid()

/** A person's identity and where each part came from (for --explain and drop details). */
type ResolvedIdentity = {
  person: Person
  from: { email?: string; profile_id?: string }
  /** Candidates that held something unusable, e.g. `$.properties.profile_id is not a UUID`. */
  notes: string[]
}

type Candidate = { path: string; read: (event: unknown) => unknown }

/** A value that is present but unusable (not an email, not a UUID): a symbol, so no string can pass for it. */
export const INVALID: unique symbol = Symbol('invalid')
/** A usable value, `undefined` when missing or blank, or INVALID. */
export type Normalized = string | undefined | typeof INVALID

export type EmailNormalizer = (value: unknown) => Normalized

/** Compiles the email rule: a string, transformed, non-blank, shaped like an email. */
function compileEmailNormalizer(transforms: readonly ('trim' | 'lowercase')[]): EmailNormalizer {
  const trim = transforms.includes('trim')
  const lower = transforms.includes('lowercase')
  return (value) => {
    if (typeof value !== 'string') return value === undefined || value === null ? undefined : INVALID
    let email = value
    if (trim) email = email.trim()
    if (lower) email = email.toLowerCase()
    if (email.trim() === '') return undefined
    return EMAIL.test(email) ? email : INVALID
  }
}

/** A profile_id is a non-blank UUID string (the ko_id cookie); anything else counts as missing. */
export function normalizeProfileId(value: unknown): Normalized {
  if (typeof value !== 'string') return value === undefined || value === null ? undefined : INVALID
  // UUIDs are case-insensitive; one spelling keeps a person's entries in one request.
  const id = value.trim().toLowerCase()
  if (id === '') return undefined
  return UUID.test(id) ? id : INVALID
}

/** The workspace's identity rule, compiled once: `resolve(event)` tries each candidate path in order. */
export type IdentityResolver = {
  normalizeEmail: EmailNormalizer
  resolve(event: unknown): ResolvedIdentity
  /** The candidate paths, for the drop detail of an event that has neither. */
  describe(): string
}

/** Compiles the `identity` section; throws MappingError at the pointer of a bad path. */
export function compileIdentity(config: IdentityConfig, pointer: string): IdentityResolver {
  const emailPointer = childPointer(childPointer(pointer, 'email'), 'paths')
  const idPointer = childPointer(childPointer(pointer, 'profile_id'), 'paths')
  const emails: Candidate[] = config.email.paths.map((path, i) => ({ path, read: compilePath(path, childPointer(emailPointer, i)) }))
  const ids: Candidate[] = config.profile_id.paths.map((path, i) => ({ path, read: compilePath(path, childPointer(idPointer, i)) }))
  const normalizeEmail = compileEmailNormalizer(config.email.transform)

  return {
    normalizeEmail,
    resolve(event) {
      const identity: ResolvedIdentity = { person: {}, from: {}, notes: [] }
      for (const candidate of emails) {
        const email = normalizeEmail(candidate.read(event))
        if (email === INVALID) identity.notes.push(`${candidate.path} is not an email address`)
        else if (email !== undefined) {
          identity.person.email = email
          identity.from.email = candidate.path
          break
        }
      }
      for (const candidate of ids) {
        const id = normalizeProfileId(candidate.read(event))
        if (id === INVALID) identity.notes.push(`${candidate.path} is not a UUID`)
        else if (id !== undefined) {
          identity.person.profile_id = id
          identity.from.profile_id = candidate.path
          break
        }
      }
      return identity
    },
    describe() {
      return `email from ${config.email.paths.join(', ')}; profile_id from ${config.profile_id.paths.join(', ')}`
    }
  }
}
