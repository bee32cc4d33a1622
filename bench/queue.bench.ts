import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { signBody } from '../src/server/signature'
import { startChild } from './child-process'
import { trackEvents } from './generate-events'
import { formatRate } from './measure'

type Result = { requests: { average: number; total: number }; non2xx: number; errors: number; latency: { p50: number; p99: number } }
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<Result>

const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')
const SWC_HOOK = path.join(ROOT, 'src', 'swc-hook.js')
const SECONDS = Number(process.env.BENCH_QUEUE_SECONDS ?? 10)
const ROUNDS = Number(process.env.BENCH_QUEUE_ROUNDS ?? 2)
const CONNECTIONS = 16
const PEOPLE = 200
const SECRET = 'bench-shared-secret'
/** A PostgreSQL database the bench creates and drops (the machine's server, trust auth). */
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Single-event bodies of PEOPLE people, each signed as Segment signs, handed out in turn. */
function signedBodies(count: number): Array<{ body: string; signature: string }> {
  return trackEvents(count, PEOPLE, 11).map((event) => {
    const body = JSON.stringify(event)
    return { body, signature: signBody(body, SECRET) }
  })
}

/** POSTs the bodies in turn for SECONDS over CONNECTIONS connections; every answer must be 2xx. */
async function load(url: string, bodies: Array<{ body: string; signature?: string }>): Promise<Result> {
  let next = 0
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (request: Record<string, unknown>) => {
          const { body, signature } = bodies[next++ % bodies.length]
          const headers: Record<string, string> = { 'content-type': 'application/json' }
          if (signature !== undefined) headers['x-signature'] = signature
          return { ...request, body, headers }
        }
      }
    ]
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors at ${url}`)
  return result
}

type Sim = { url: string; requests(): Promise<{ requests: number; entries: number }>; clear(): Promise<unknown> }

function simulatorOf(url: string): Sim {
  return {
    url,
    clear: () => fetch(`${url}/_sim/requests`, { method: 'DELETE' }),
    async requests() {
      const records = (await (await fetch(`${url}/_sim/requests`)).json()) as Array<{ body: Record<string, unknown[] | undefined> }>
      const entries = records.reduce((sum, r) => sum + (r.body.events?.length ?? 0) + (r.body.identifies?.length ?? 0) + (r.body.page_views?.length ?? 0), 0)
      return { requests: records.length, entries }
    }
  }
}

/** Waits until the simulator holds `events` entries (the deliverer drained the queue), up to a minute. */
async function drained(sim: Sim, events: number): Promise<{ requests: number; entries: number }> {
  const until = Date.now() + 60_000
  for (;;) {
    const seen = await sim.requests()
    if (seen.entries >= events || Date.now() > until) return seen
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

function serviceEnv(simUrl: string, queueUrl: string): NodeJS.ProcessEnv {
  return { KOALA_PUBLIC_API_KEY: 'bench-key', KOALA_BASE_URL: `${simUrl}/web/projects`, SEGMENT_SHARED_SECRET: SECRET, HOST: '127.0.0.1', QUEUE_URL: queueUrl }
}

/**
 * Queue mode (issue 15): single-event signed webhooks of 200 people over 16 connections,
 * answered once stored in SQLite (every acknowledgement durable), against the bare express
 * echo on the same bodies; then how many Koala requests those events became. Then two
 * replicas on one PostgreSQL database, load split between them.
 */
export async function queueBench(): Promise<{ lines: string[] }> {
  const bodies = signedBodies(2_000)
  const sim = await startChild([BIN, 'sim', '--port', '0'], /listening on (http:\/\/\S+)/)
  const simulator = simulatorOf(sim.match[1])
  const echo = await startChild(['-r', SWC_HOOK, path.join(__dirname, 'echo-server.ts')], /listening (\d+)/)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'queue-bench-'))
  const lines: string[] = []
  try {
    const echoRuns: Result[] = []
    const sqliteRuns: Array<{ result: Result; requests: number; entries: number }> = []
    for (let round = 0; round < ROUNDS; round++) {
      echoRuns.push(await load(`http://127.0.0.1:${echo.match[1]}/echo`, bodies))
      // A fresh store and simulator record each round, so each round's requests per event are its own.
      await simulator.clear()
      const file = path.join(dir, `queue-${round}.db`)
      const service = await startChild([BIN, 'serve', '--port', '0'], /listening on (http:\/\/\S+)/, serviceEnv(simulator.url, `sqlite:${file}`))
      try {
        const result = await load(`${service.match[1]}/webhook/default`, bodies)
        const seen = await drained(simulator, result.requests.total)
        sqliteRuns.push({ result, ...seen })
      } finally {
        await service.stop()
      }
    }
    const bestEcho = echoRuns.reduce((a, b) => (b.requests.average > a.requests.average ? b : a))
    const best = sqliteRuns.reduce((a, b) => (b.result.requests.average > a.result.requests.average ? b : a))
    lines.push(
      `queue: ${SECONDS}s per run, ${CONNECTIONS} connections, single-event signed webhooks of ${PEOPLE} people; best of ${ROUNDS} rounds`,
      `  bare express JSON echo                 ${formatRate(bestEcho.requests.average).padStart(10)} requests  (p99 ${bestEcho.latency.p99} ms)`,
      `  adapter, SQLite queue (durable ack)    ${formatRate(best.result.requests.average).padStart(10)} events    (p99 ${best.result.latency.p99} ms)`,
      `  ratio queue door / echo: ${(best.result.requests.average / bestEcho.requests.average).toFixed(2)} (goal >= 0.7)`,
      `  Koala requests per event: ${(best.requests / Math.max(1, best.result.requests.total)).toFixed(3)} (${best.requests} requests for ${best.result.requests.total} events, ${best.entries} entries seen; goal <= 0.1, direct mode 1.0)`
    )
    lines.push(...(await postgresRuns(bodies, simulator)))
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await Promise.all([echo.stop(), sim.stop()])
  }
  return { lines }
}

/** Two replicas on one fresh PostgreSQL database, each taking half the connections. */
async function postgresRuns(bodies: Array<{ body: string; signature: string }>, simulator: Sim): Promise<string[]> {
  const { Client } = require('pg') as typeof import('pg')
  const admin = new Client({ connectionString: PG_ADMIN_URL })
  const database = `queue_bench_${process.pid}`
  try {
    await admin.connect()
  } catch (error) {
    return [`  PostgreSQL: skipped, cannot connect to ${new URL(PG_ADMIN_URL).host} (${(error as Error).message})`]
  }
  await admin.query(`CREATE DATABASE ${database}`)
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${database}`
  await simulator.clear()
  const replicas = await Promise.all([0, 1].map(() => startChild([BIN, 'serve', '--port', '0'], /listening on (http:\/\/\S+)/, serviceEnv(simulator.url, url.toString()))))
  try {
    const half = bodies.length / 2
    const results = await Promise.all(replicas.map((replica, i) => load(`${replica.match[1]}/webhook/default`, bodies.slice(i * half, (i + 1) * half))))
    const events = results.reduce((sum, r) => sum + r.requests.total, 0)
    const rate = results.reduce((sum, r) => sum + r.requests.average, 0)
    const seen = await drained(simulator, events)
    return [
      `  adapter, PostgreSQL queue, 2 replicas  ${formatRate(rate).padStart(10)} events    (p99 ${Math.max(...results.map((r) => r.latency.p99))} ms; ${CONNECTIONS} connections each)`,
      `  Koala requests per event (PostgreSQL): ${(seen.requests / Math.max(1, events)).toFixed(3)} (${seen.requests} requests for ${events} events, ${seen.entries} entries seen)`
    ]
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()))
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.end()
  }
}

if (require.main === module) void queueBench().then((r) => console.log(r.lines.join('\n')))
