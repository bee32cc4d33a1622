import type { DropReason } from '../drop-reasons'
import { groupByPerson } from '../koala/batcher'
import type { KoalaEntry } from '../koala/request-schema'
import type { MapResult } from '../mapping/compile-mapping'
import { loadMappingFile } from '../mapping/load-mapping'
import { mappingsDir, workspaceMappingFile } from './mappings-dir'
import { readInputs } from './read-input'

export type MapOptions = { mappings?: string; workspace?: string; mapping?: string; batch?: boolean; explain?: boolean }

/** `koala-adapter map`: prints what each event becomes (or, with --batch, the grouped requests). */
export function runMap(files: string[], options: MapOptions, out: (line: string) => void, err: (line: string) => void): void {
  const file = options.mapping ?? workspaceMappingFile(mappingsDir(options.mappings), options.workspace ?? 'default')
  const { compiled } = loadMappingFile(file)
  const items = readInputs(files)
  const explain = options.explain === true

  const results: MapResult[] = items.map((item) =>
    item.error !== undefined
      ? { outcome: 'drop', messageId: null, reason: 'invalid_event', detail: `${item.where}: ${item.error}` }
      : compiled.map(item.value, { explain })
  )

  if (options.batch === true) {
    const entries: KoalaEntry[] = results.flatMap((result) => (result.outcome === 'send' ? result.entries : []))
    const requests = groupByPerson(entries)
    for (const request of requests) out(JSON.stringify(request))
    err(summarize(results, requests.length))
    return
  }
  for (const result of results) {
    const line =
      result.outcome === 'send'
        ? { messageId: result.messageId, outcome: 'send', requests: groupByPerson(result.entries), explain: result.explain }
        : { messageId: result.messageId, outcome: 'drop', reason: result.reason, detail: result.detail, explain: result.explain }
    out(JSON.stringify(line))
  }
}

function summarize(results: MapResult[], requests: number): string {
  const dropped: Partial<Record<DropReason, number>> = {}
  let sent = 0
  for (const result of results) {
    if (result.outcome === 'send') sent++
    else dropped[result.reason] = (dropped[result.reason] ?? 0) + 1
  }
  const reasons = Object.entries(dropped).map(([reason, count]) => `${reason}: ${count}`)
  const droppedTotal = results.length - sent
  return `events: ${results.length}, sent: ${sent}, dropped: ${droppedTotal}${reasons.length ? ` (${reasons.join(', ')})` : ''}, requests: ${requests}`
}
