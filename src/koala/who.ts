import type { Account, KoalaEntry, OutboundRequest, Person } from './request-schema'

/**
 * Who a Koala request is about, as one key: its endpoint followed by who, as the JSON
 * text that opens the request's body (`batch{"email":"ada@example.com","profile_id":"…"}`,
 * `accounts/batch{"domain":"acme.com","account_id":"…"}`). The exact pair decides which
 * entries may share a request and which requests must go one after the other; a person
 * and an account never share a key (the endpoint comes first), and JSON's quoting keeps
 * one field's text from reaching into the next. Fields keep one order (the order map()
 * builds them in), so the same person has one key whatever object holds them. The
 * replay's map threads send this key with each rendered entry, and the request body is
 * built from it (rendered-request.ts).
 */
export function whoKey(endpoint: KoalaEntry['endpoint'], who: Person | Account): string {
  if (endpoint === 'batch') {
    const { email, profile_id } = who as Person
    return endpoint + jsonFields('email', email, 'profile_id', profile_id)
  }
  const { domain, account_id } = who as Account
  return endpoint + jsonFields('domain', domain, 'account_id', account_id)
}

/** The key of who a request is about: a rendered request carries it; an object body is read for it. */
export function whoKeyOfRequest(request: OutboundRequest): string {
  return typeof request.body === 'string' ? (request as { who: string }).who : whoKey(request.endpoint, request.body)
}

/** Who an entry is about, in whoKey's field order: the fields a request's body opens with. */
export function whoOfEntry(entry: KoalaEntry): Person | Account {
  if (entry.endpoint === 'batch') {
    const { email, profile_id } = entry.person
    const person: Person = {}
    if (email !== undefined) person.email = email
    if (profile_id !== undefined) person.profile_id = profile_id
    return person
  }
  const { domain, account_id } = entry.account
  const account: Account = {}
  if (domain !== undefined) account.domain = domain
  if (account_id !== undefined) account.account_id = account_id
  return account
}

/** `{"a":…,"b":…}` with the fields that are set: what JSON.stringify gives for an object holding them in this order. */
function jsonFields(a: string, aValue: string | undefined, b: string, bValue: string | undefined): string {
  const first = aValue === undefined ? '' : `"${a}":${jsonString(aValue)}`
  if (bValue === undefined) return `{${first}}`
  return `{${first}${first === '' ? '' : ','}"${b}":${jsonString(bValue)}}`
}

/** What JSON.stringify escapes in a string: quotes, backslashes, control characters, lone surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/**
 * JSON.stringify(text), without its cost for the usual email or UUID that needs no escape
 * (a key is made per entry on the server and the replay's hot path: ~170 ns a key with
 * JSON.stringify, ~30 ns without, measured).
 */
function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`
}
