import type { MessagePort } from 'node:worker_threads'
import { compileMapping } from '../../mapping/compile-mapping'
import type { MapThreadSetup } from './map-threads'
import { createLineMapper } from './mapped-lines'
import type { FramedLine } from './parse-archive-lines'

/** One map thread: answers each batch of framed lines with its mapped lines, in the order the batches came. */
export function serveMapThread(port: MessagePort, setup: MapThreadSetup): void {
  const mapLines = createLineMapper(compileMapping(setup.mapping), { selection: setup.selection, keepEvents: setup.keepEvents })
  port.on('message', (framed: FramedLine[]) => port.postMessage(mapLines(framed)))
}
