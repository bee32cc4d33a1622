import { readFileSync } from 'node:fs'
import path from 'node:path'
import { compileMapping } from '../src/mapping/compile-mapping'
import { compileMappingKit } from '../src/mapping/kit/compile-mapping-kit'
import { parseMappingText } from '../src/mapping/load-mapping'
import { trackEvents } from './generate-events'
import { compare, formatRate } from './measure'

// Segment's transform(): a devDependency, the baseline we compare against.
const { transform } = require('@segment/actions-core') as { transform: (mapping: unknown, data: unknown) => unknown }

const EVENTS = Number(process.env.BENCH_MAPPING_EVENTS ?? 20_000)

/** `@coalesce` of paths written with Segment's own directives, for transform(). */
function coalesceAsIf(paths: string[]): unknown {
  const [first, ...rest] = paths
  return rest.length === 0 ? { '@path': first } : { '@if': { exists: { '@path': first }, then: { '@path': first }, else: coalesceAsIf(rest) } }
}

/** Our compiled default mapping vs Segment's transform() with the same mapping, on the same events. */
export function mappingBench(): { lines: string[]; figures: Record<string, number> } {
  const text = readFileSync(path.join(__dirname, '..', 'mappings', 'default.json'), 'utf8')
  const config = parseMappingText(text)
  const compiled = compileMapping(config)
  const trackMapping = config.subscriptions.find((s) => s.partnerAction === 'track')!.mapping as Record<string, unknown>

  // The same fields for both engines; the identity rule written as Segment's Koala action would.
  const email = coalesceAsIf(config.identity.email.paths)
  const profileId = coalesceAsIf(config.identity.profile_id.paths)
  const segmentMapping = { ...trackMapping, sent_at: coalesceAsIf(['$.timestamp', '$.originalTimestamp', '$.receivedAt']), email, profile_id: profileId }
  const oursMapping = { ...trackMapping, email: { '@coalesce': config.identity.email.paths.map((p) => ({ '@path': p })) }, profile_id: { '@coalesce': config.identity.profile_id.paths.map((p) => ({ '@path': p })) } }
  const ours = compileMappingKit(oursMapping, '/bench')

  const events = trackEvents(EVENTS)
  let sink = 0
  const results = compare([
    {
      name: 'segment transform()',
      run: () => {
        for (const event of events) sink += Object.keys(transform(segmentMapping, event) as object).length
        return events.length
      }
    },
    {
      name: 'ours: compiled mapping-kit',
      run: () => {
        for (const event of events) sink += Object.keys(ours(event)).length
        return events.length
      }
    },
    {
      name: 'ours: full map() per event',
      run: () => {
        for (const event of events) sink += compiled.map(event).outcome.length
        return events.length
      }
    }
  ])
  if (sink === 0) throw new Error('nothing was mapped')
  const base = results.get('segment transform()')!.perSecond
  const engine = results.get('ours: compiled mapping-kit')!.perSecond
  const full = results.get('ours: full map() per event')!.perSecond
  const lines = [
    `mapping: ${EVENTS} track events (~1 KB), default mapping's Track fields + identity`,
    ...[...results].map(([name, r]) => `  ${name.padEnd(30)} ${formatRate(r.perSecond).padStart(10)}  (median round ${r.ms.toFixed(0)} ms)`),
    `  ratio compiled mapping-kit / transform(): ${(engine / base).toFixed(1)}x (goal >= 20x)`,
    `  ratio full map() / transform():           ${(full / base).toFixed(1)}x (full map() also validates the event, runs FQL, builds and checks the Koala entry)`
  ]
  return { lines, figures: { transform: base, engine, full, engineRatio: engine / base, fullRatio: full / base } }
}

if (require.main === module) console.log(mappingBench().lines.join('\n'))
