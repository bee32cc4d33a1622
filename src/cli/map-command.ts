import { groupByPerson } from '../koala/batcher'
import { loadMappingFile } from '../mapping/load-mapping'
import { droppedTotal, type DropTally } from '../pipeline/drop-tally'
import { mapEvents } from '../pipeline/map-events'
import { mappingsDir, workspaceMappingFile } from './mappings-dir'
import { readInputs } from './read-input'

export type MapOptions = { mappings?: string; workspace?: string; mapping?: string; batch?: boolean; explain?: boolean }

/** `koala-adapter map`: prints what each event becomes (or, with --batch, the grouped requests). */
export function runMap(files: string[], options: MapOptions, out: (line: string) => void, err: (line: string) => void): void {
  const file = options.mapping ?? workspaceMappingFile(mappingsDir(options.mappings), options.workspace ?? 'default')
  const { compiled } = loadMappingFile(file)
  const items = readInputs(files).map((item) => (item.error !== undefined ? { value: undefined, refused: `${item.where}: ${item.error}` } : { value: item.value }))
  const { results, tally, toSend } = mapEvents(items, compiled, { explain: options.explain === true })

  if (options.batch === true) {
    const requests = groupByPerson(results.flatMap((result) => (result.outcome === 'send' ? result.entries : [])))
    for (const request of requests) out(JSON.stringify(request))
    err(summarize(results.length, toSend, tally, requests.length))
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

function summarize(events: number, sent: number, tally: DropTally, requests: number): string {
  const reasons = Object.entries(tally).map(([reason, count]) => `${reason}: ${count}`)
  return `events: ${events}, sent: ${sent}, dropped: ${droppedTotal(tally)}${reasons.length ? ` (${reasons.join(', ')})` : ''}, requests: ${requests}`
}
