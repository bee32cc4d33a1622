import type { EntryGroup } from './batcher'
import { assertValidRequestOfCheckedEntries, type Account, type KoalaEntry, type KoalaRequest, type Person, type RenderedRequest } from './request-schema'

/**
 * One of map()'s entries as JSON text, for a thread that groups entries it did not
 * parse. `key` is the endpoint followed by who the entry is about, as JSON: it groups
 * the entry and gives the request body its first fields.
 */
export type RenderedEntry = { key: string; kind: string; text: string }

/**
 * Turns one of map()'s entries into text. Who it is about is checked here, as
 * toKoalaRequest checks it, since the request is later put together from text.
 */
export function renderEntry(entry: KoalaEntry): RenderedEntry {
  const who: Person | Account = entry.endpoint === 'batch' ? entry.person : entry.account
  assertValidRequestOfCheckedEntries({ endpoint: entry.endpoint, body: who } as KoalaRequest)
  return { key: entry.endpoint + JSON.stringify(who), kind: entry.kind, text: JSON.stringify(entry.entry) }
}

/**
 * The request of one group of rendered entries: the same JSON text JSON.stringify gives
 * for toKoalaRequest's request of the same entries (who first, then each kind in the
 * order it first came), built by joining the texts.
 */
export function renderRequest(group: EntryGroup<RenderedEntry>): RenderedRequest {
  const key = group.first.key
  const at = key.indexOf('{')
  let body = key.slice(at, -1)
  for (const kind of Object.keys(group.lists)) {
    const list = group.lists[kind]
    if (list.length === 0) continue
    let texts = list[0].text
    for (let i = 1; i < list.length; i++) texts += ',' + list[i].text
    body += `,"${kind}":[${texts}]`
  }
  return { endpoint: key.slice(0, at) as KoalaEntry['endpoint'], body: body + '}', who: key }
}
