import { AdapterError } from '../errors'
import { EntryGroup } from '../koala/batcher'
import { renderRequest, type RenderedEntry } from '../koala/rendered-request'
import type { RenderedRequest } from '../koala/request-schema'
import type { QueuedEntry } from './queue-store'

/**
 * The entries one Koala request takes from a person's oldest entries (`oldest`, in order):
 * a prefix, cut before the first entry whose kind already has `maxPerKind`, so the request
 * holds what EntryGrouper would have put in it and no entry overtakes an older one.
 */
export function requestPrefix<E extends { kind: string }>(oldest: readonly E[], maxPerKind: number): E[] {
  const perKind: Record<string, number> = {}
  let end = 0
  for (; end < oldest.length; end++) {
    const kind = oldest[end].kind
    const count = perKind[kind] ?? 0
    if (count >= maxPerKind) break
    perKind[kind] = count + 1
  }
  return oldest.slice(0, end)
}

/** The Koala request of one lease's entries: the same text renderRequest gives for the entries as the door rendered them. */
export function renderLeasedRequest(entries: readonly QueuedEntry[], maxPerKind: number): RenderedRequest {
  const rendered = (entry: QueuedEntry): RenderedEntry => {
    const out: RenderedEntry = { key: entry.key, kind: entry.kind, text: entry.text }
    if (entry.bodyFields !== undefined) out.bodyFields = entry.bodyFields
    return out
  }
  const group = new EntryGroup<RenderedEntry>(rendered(entries[0]))
  for (const entry of entries) {
    if (!group.tryAdd(rendered(entry), maxPerKind)) throw new AdapterError('INTERNAL', `a lease holds more than ${maxPerKind} ${entry.kind}`)
  }
  return renderRequest(group)
}
