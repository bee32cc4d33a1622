import type { CompiledMapping } from '../../mapping/compile-mapping'
import { renderEntry } from '../../koala/rendered-request'
import { holdsManyEvents, itemsOfDocument } from '../../segment/read-events'
import { unwrapDeadLetter } from '../settling/dead-letter'
import { parseFramedLines, type FramedLine } from './parse-archive-lines'
import { eventInRange, hasRange, type ReplaySelection } from './replay-selection'

/**
 * What a line mapper gives back for a batch of framed lines: one flat array (a few
 * strings and numbers per event clone much faster between threads than objects),
 * records one after another, each starting with its line and a code:
 *
 *   line, MAPPED_ERROR, message              the line could not be read (malformed JSON, too long)
 *   line, MAPPED_OUTSIDE                     one event outside --from/--to
 *   line, MAPPED_DROP, reason                one event map() dropped
 *   line, n, eventJson | null, n × (key, kind, text, bodyFields | null)
 *                                            one event that became n ≥ 1 entries (RenderedEntry);
 *                                            its JSON is there when the run keeps events for dead letters
 *
 * A line holding many events (a JSON array, a /v1/batch envelope) gives one record per event.
 */
export type MappedLines = Array<string | number | null>

export const MAPPED_ERROR = -3
export const MAPPED_DROP = -2
export const MAPPED_OUTSIDE = -1

export type LineMapperOptions = { selection: ReplaySelection; keepEvents: boolean }

/** Returns what a line mapper (line-mapper.ts) does with each batch: parse, select, map and render its lines. */
export function createLineMapper(mapping: CompiledMapping, options: LineMapperOptions): (framed: readonly FramedLine[]) => MappedLines {
  const filtering = hasRange(options.selection)
  const addEvent = (out: MappedLines, line: number, event: unknown): void => {
    if (filtering && !eventInRange(event, options.selection)) {
      out.push(line, MAPPED_OUTSIDE)
      return
    }
    const result = mapping.map(event)
    if (result.outcome === 'drop') {
      out.push(line, MAPPED_DROP, result.reason)
      return
    }
    out.push(line, result.entries.length, options.keepEvents ? JSON.stringify(event) : null)
    for (const entry of result.entries) {
      const rendered = renderEntry(entry)
      out.push(rendered.key, rendered.kind, rendered.text, rendered.bodyFields ?? null)
    }
  }
  return (framed) => {
    const out: MappedLines = []
    for (const item of parseFramedLines(framed)) {
      if (item.error !== undefined) {
        out.push(item.line, MAPPED_ERROR, item.error)
        continue
      }
      const value = unwrapDeadLetter(item.value)
      if (holdsManyEvents(value)) for (const event of itemsOfDocument(value)) addEvent(out, item.line, event.value)
      else addEvent(out, item.line, value)
    }
    return out
  }
}
