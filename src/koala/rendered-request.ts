import type { EntryGroup } from './batcher'
import { mergeBodyFields } from './body-fields'
import { whoKey } from './who'
import { assertValidRequestOfCheckedEntries, type Account, type BodyFields, type KoalaEntry, type KoalaRequest, type Person, type RenderedRequest } from './request-schema'

/**
 * One of map()'s entries as JSON text, for a thread that groups entries it did not
 * parse. `key` is whoKey (who.ts): the endpoint followed by who the entry is about, as
 * JSON; it groups the entry and gives the request body its first fields. `bodyFields`, when the entry
 * has any, is their JSON text without the braces (`"traits":{…},"ip":"…"`).
 */
export type RenderedEntry = { key: string; kind: string; text: string; bodyFields?: string }

/**
 * Turns one of map()'s entries into text. Who it is about is checked here, as
 * toKoalaRequest checks it, since the request is later put together from text.
 */
export function renderEntry(entry: KoalaEntry): RenderedEntry {
  const who: Person | Account = entry.endpoint === 'batch' ? entry.person : entry.account
  assertValidRequestOfCheckedEntries({ endpoint: entry.endpoint, body: who } as KoalaRequest)
  const rendered: RenderedEntry = { key: whoKey(entry.endpoint, who), kind: entry.kind, text: JSON.stringify(entry.entry) }
  if (entry.endpoint === 'batch' && entry.bodyFields !== undefined) rendered.bodyFields = JSON.stringify(entry.bodyFields).slice(1, -1)
  return rendered
}

/**
 * The request of one group of rendered entries: the same JSON text JSON.stringify gives
 * for toKoalaRequest's request of the same entries (who first, then each kind in the
 * order it first came), built by joining the texts. Body fields are joined as they
 * are when every entry has the same; otherwise they are parsed and merged as
 * toKoalaRequest merges them.
 */
export function renderRequest(group: EntryGroup<RenderedEntry>): RenderedRequest {
  const key = group.first.key
  const at = key.indexOf('{')
  let body = key.slice(at, -1)
  const fields = group.bodyFields
  if (fields.length > 0) body += ',' + (fields.every((text) => text === fields[0]) ? fields[0] : mergedBodyFieldsText(fields))
  for (const kind of Object.keys(group.lists)) {
    const list = group.lists[kind]
    if (list.length === 0) continue
    let texts = list[0].text
    for (let i = 1; i < list.length; i++) texts += ',' + list[i].text
    body += `,"${kind}":[${texts}]`
  }
  return { endpoint: key.slice(0, at) as KoalaEntry['endpoint'], body: body + '}', who: key }
}

/** The text mergeBodyFields' result has inside its braces; read only when a person's entries differ. */
function mergedBodyFieldsText(texts: readonly string[]): string {
  const merged = mergeBodyFields(texts.map((text) => JSON.parse(`{${text}}`) as BodyFields))
  return JSON.stringify(merged).slice(1, -1)
}
