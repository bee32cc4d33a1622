/** `npm run bench [-- mapping|webhook|replay|attack|koala-client|queue]`: each scenario prints ours next to its baseline from the same run. */
import os from 'node:os'
import { attackBench } from './attack.bench'
import { koalaClientBench } from './koala-client.bench'
import { mappingBench } from './mapping.bench'
import { queueBench } from './queue.bench'
import { replayBench } from './replay.bench'
import { webhookBench } from './webhook.bench'

const SCENARIOS: Record<string, () => Promise<{ lines: string[] }> | { lines: string[] }> = {
  mapping: mappingBench,
  webhook: webhookBench,
  replay: replayBench,
  attack: attackBench,
  'koala-client': koalaClientBench,
  queue: queueBench
}

async function main(): Promise<void> {
  const only = process.argv.slice(2)
  const unknown = only.filter((name) => !(name in SCENARIOS))
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`)
  console.log(`node ${process.version}, ${os.cpus().length} cores, ${os.loadavg()[0].toFixed(2)} load, ${new Date().toISOString()}`)
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (only.length > 0 && !only.includes(name)) continue
    console.log((await scenario()).lines.join('\n'))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
