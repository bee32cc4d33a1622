import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { signBody } from '../src/server/signature'
import { startChild } from './child-process'
import { trackEvents } from './generate-events'

const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<{
  requests: { total: number }
  non2xx: number
  errors: number
  latency: { p50: number; p99: number; max: number }
}>

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')
const SECONDS = Number(process.env.BENCH_ATTACK_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_ATTACK_ROUNDS ?? 2)
const ATTACKERS = 4
const LEGIT_RATE = 20
const SECRET = 'bench-shared-secret'

/** ~16 KB of gzip that inflates to ~15 MB of JSON with ~2 million values: costly to parse, cheap to send. */
function bombs(): Buffer[] {
  const values = '0,'.repeat(7_000_000)
  return [gzipSync(Buffer.from(`{"type":"track","pad":[${values}0]}`), { level: 9 }), gzipSync(Buffer.from(`[{"type":"track"},${values}0]`), { level: 9 })]
}

/** One attacker: sends its bodies with a well-formed wrong X-Signature, back to back, until `until`. */
async function attack(url: string, bodies: Buffer[], until: number): Promise<{ sent: number; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {}
  let sent = 0
  const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-signature': 'ab'.repeat(20) }
  while (Date.now() < until) {
    const response = await fetch(url, { method: 'POST', headers, body: new Uint8Array(bodies[sent % bodies.length]) })
    await response.arrayBuffer()
    statuses[response.status] = (statuses[response.status] ?? 0) + 1
    sent++
  }
  return { sent, statuses }
}

/**
 * The issue-12 attack: ATTACKERS senders of unauthenticated gzip bombs (a 16 KB body that
 * inflates to ~15 MB of JSON, as an object and as a batch, wrong X-Signature) against
 * legitimate signed events at LEGIT_RATE/s; their latency with and without the attack.
 */
export async function attackBench(): Promise<{ lines: string[] }> {
  const sim = await startChild([BIN, 'sim', '--port', '0'], /listening on (http:\/\/\S+)/)
  const service = await startChild([BIN, 'serve', '--port', '0'], /listening on (http:\/\/\S+)/, {
    KOALA_PUBLIC_API_KEY: 'bench-key',
    KOALA_BASE_URL: `${sim.match[1]}/web/projects`,
    SEGMENT_SHARED_SECRET: SECRET,
    HOST: '127.0.0.1'
  })
  try {
    const url = `${service.match[1]}/webhook/default`
    const single = JSON.stringify(trackEvents(1)[0])
    const bodies = bombs()
    const legit = async () => {
      const result = await autocannon({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-signature': signBody(single, SECRET) },
        body: single,
        connections: 2,
        overallRate: LEGIT_RATE,
        duration: SECONDS
      })
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors for legitimate requests`)
      return result
    }
    const quiet: Awaited<ReturnType<typeof legit>>[] = []
    const attacked: Awaited<ReturnType<typeof legit>>[] = []
    let attacks = { sent: 0, statuses: {} as Record<string, number> }
    for (let round = 0; round < ROUNDS; round++) {
      quiet.push(await legit())
      const until = Date.now() + SECONDS * 1000
      const senders = Array.from({ length: ATTACKERS }, () => attack(url, bodies, until))
      attacked.push(await legit())
      for (const sender of await Promise.all(senders)) {
        attacks.sent += sender.sent
        for (const [status, count] of Object.entries(sender.statuses)) attacks.statuses[status] = (attacks.statuses[status] ?? 0) + count
      }
    }
    const worst = (runs: typeof quiet) => ({ p50: Math.max(...runs.map((r) => r.latency.p50)), p99: Math.max(...runs.map((r) => r.latency.p99)), max: Math.max(...runs.map((r) => r.latency.max)) })
    const [q, a] = [worst(quiet), worst(attacked)]
    return {
      lines: [
        `attack: ${ROUNDS} rounds of ${SECONDS}s; legitimate signed single events at ${LEGIT_RATE}/s (2 connections); ${ATTACKERS} attackers sending ${bodies.map((b) => `${(b.length / 1024).toFixed(0)} KB`).join(' and ')} gzip bombs (~15 MB inflated: an object, a batch) with a wrong X-Signature, back to back`,
        `  legitimate latency, no attack:   p50 ${q.p50} ms, p99 ${q.p99} ms, max ${q.max} ms (worst round)`,
        `  legitimate latency, under attack: p50 ${a.p50} ms, p99 ${a.p99} ms, max ${a.max} ms (worst round)`,
        `  attack requests answered: ${attacks.sent} (${Object.entries(attacks.statuses).map(([s, n]) => `${n}× ${s}`).join(', ')})`
      ]
    }
  } finally {
    await Promise.all([service.stop(), sim.stop()])
  }
}

if (require.main === module) void attackBench().then((r) => console.log(r.lines.join('\n')))
