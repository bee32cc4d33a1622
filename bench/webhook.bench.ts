import path from 'node:path'
import { signBody } from '../src/server/signature'
import { startChild } from './child-process'
import { trackEvents } from './generate-events'
import { formatRate } from './measure'

const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<{
  requests: { average: number; total: number }
  non2xx: number
  errors: number
  latency: { p50: number; p99: number }
}>

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')
// Every side of a comparison runs as the product does, without ts-node (see src/swc-hook.js).
const SWC_HOOK = path.join(ROOT, 'src', 'swc-hook.js')
const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10)
const CONNECTIONS = 16
const ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 3)

const SECRET = 'bench-shared-secret'
const TOKEN = 'bench-webhook-token'

async function load(url: string, body: string, connections = CONNECTIONS, seconds = SECONDS, signature?: string, token?: string) {
  // Loopback only, bounded in time.
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (signature !== undefined) headers['x-signature'] = signature
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const result = await autocannon({ url, method: 'POST', headers, body, connections, duration: seconds })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors at ${url}`)
  return result
}

/**
 * The webhook door end to end (adapter → simulator, each its own process) vs a bare
 * express JSON echo, single events; then 1000-event Actions batches in events/s.
 */
export async function webhookBench(): Promise<{ lines: string[]; figures: Record<string, number> }> {
  const sim = await startChild([BIN, 'sim', '--port', '0'], /listening on (http:\/\/\S+)/)
  const simUrl = sim.match[1]
  const service = await startChild([BIN, 'serve', '--port', '0'], /listening on (http:\/\/\S+)/, {
    KOALA_PUBLIC_API_KEY: 'bench-key',
    KOALA_BASE_URL: `${simUrl}/web/projects`,
    SEGMENT_SHARED_SECRET: SECRET,
    SEGMENT_WEBHOOK_TOKEN: TOKEN,
    HOST: '127.0.0.1'
  })
  const echo = await startChild(['-r', SWC_HOOK, path.join(__dirname, 'echo-server.ts')], /listening (\d+)/)
  try {
    const [event] = trackEvents(1)
    const single = JSON.stringify(event)
    const runEcho = () => load(`http://127.0.0.1:${echo.match[1]}/echo`, single)
    // The simulator forgets what it recorded before each run of ours, so its memory (and GC) starts alike.
    const clearSim = () => fetch(`${simUrl}/_sim/requests`, { method: 'DELETE' })
    // Signed as Segment signs: the door checks every request, as in production.
    const runOurs = async () => {
      await clearSim()
      return load(`${service.match[1]}/webhook/default`, single, CONNECTIONS, SECONDS, signBody(single, SECRET))
    }
    // How many people a batch holds decides how many Koala requests it becomes
    // (one per person per 30 events), so two shapes are measured.
    const BATCH_PEOPLE = [50, 200]
    const runBatch = (people: number) => {
      const events = trackEvents(1000, people, 7)
      return async () => {
        await clearSim()
        // A batch is authenticated whole by a bearer token (X-Signature covers only its first event).
        return load(`${service.match[1]}/webhook/default`, JSON.stringify(events), 4, SECONDS, undefined, TOKEN)
      }
    }
    type Run = Awaited<ReturnType<typeof load>>
    const sides: Array<{ run: () => Promise<Run>; results: Run[] }> = [runEcho, runOurs, ...BATCH_PEOPLE.map(runBatch)].map((run) => ({ run, results: [] }))
    // Alternating rounds, best of each: the order turns each round, so a noisy neighbour hits every side alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < sides.length; i++) {
        const side = sides[(i + round) % sides.length]
        side.results.push(await side.run())
      }
    }
    const best = (runs: Run[]) => runs.reduce((a, b) => (b.requests.average > a.requests.average ? b : a))
    const [echoResult, oursSingle, ...batchBests] = sides.map((side) => best(side.results))
    const batchRates = batchBests.map((result, i) => ({ people: BATCH_PEOPLE[i], events: result.requests.average * 1000, p99: result.latency.p99 }))
    const singleRate = oursSingle.requests.average
    const batchEvents = batchRates[0].events
    const lines = [
      `webhook: ${SECONDS}s per run, ${CONNECTIONS} connections, ~1 KB track event; adapter and simulator in their own processes, 2 cores shared; every side best of ${ROUNDS} runs in turning order`,
      `  bare express JSON echo          ${formatRate(echoResult.requests.average).padStart(10)} requests  (p99 ${echoResult.latency.p99} ms)`,
      `  adapter → simulator, 1 event    ${formatRate(singleRate).padStart(10)} requests  (p99 ${oursSingle.latency.p99} ms)`,
      ...batchRates.map(
        (b) => `  adapter → simulator, 1000-event Actions batches, ${b.people} people (4 connections): ${formatRate(b.events)} events (p99 ${b.p99} ms)`
      ),
      `  ratio single-event adapter / echo: ${(singleRate / echoResult.requests.average).toFixed(2)} (goal >= 0.5)`,
      ...batchRates.map((b) => `  ratio batch events/s (${b.people} people) / single-event events/s: ${(b.events / singleRate).toFixed(1)}x (goal >= 10x)`)
    ]
    return { lines, figures: { echo: echoResult.requests.average, single: singleRate, batchEvents } }
  } finally {
    await Promise.all([echo.stop(), service.stop(), sim.stop()])
  }
}

if (require.main === module) void webhookBench().then((r) => console.log(r.lines.join('\n')))
