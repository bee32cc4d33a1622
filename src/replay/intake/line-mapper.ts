import type { CompiledMapping } from '../../mapping/compile-mapping'
import { createLineMapper, type LineMapperOptions, type MappedLines } from './mapped-lines'
import type { FramedLine } from './parse-archive-lines'

/**
 * What turns a replay's framed lines into mapped lines (parsed, selected, mapped and
 * rendered: mapped-lines.ts): map threads, or this thread. Answers come in the order
 * the batches were given, which is what keeps each person's order across the archive.
 */
export interface LineMapper {
  /** Batches worth keeping given and not yet taken: more lets threads work while the run takes an answer. */
  readonly capacity: number
  /** Maps one batch; a rejection is the mapper failing (a thread out of memory), never a bad line. */
  map(framed: FramedLine[]): Promise<MappedLines>
  /** Ends the mapper; batches still out are refused. */
  close(): Promise<void>
}

/** Starts a replay's line mapper; `keepEvents` asks for each event's JSON too, for dead letters (a sink that can refuse). */
export type StartLineMapper = (keepEvents: boolean) => LineMapper

/** A line mapper that maps in this thread, as each batch is given (--map-threads 0, and small inputs). */
export function mapInThisThread(mapping: CompiledMapping, options: LineMapperOptions): LineMapper {
  const mapLines = createLineMapper(mapping, options)
  return {
    // One batch ahead: mapping happens when a batch is given, so more would only hold more.
    capacity: 1,
    async map(framed) {
      return mapLines(framed)
    },
    close: async () => {}
  }
}
