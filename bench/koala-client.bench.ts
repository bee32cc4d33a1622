import { spawn } from 'node:child_process'
import { createKoalaClient, type KoalaClient } from '../src/koala/koala-client'
import type { RenderedRequest } from '../src/koala/request-schema'
import { createKoalaClient as createNodeHttpClient } from './node-http-koala-client'
import { trackEvents } from './generate-events'

const REQUESTS = Number(process.env.BENCH_CLIENT_REQUESTS ?? 5_000)
const CONCURRENCY = 16
const ROUNDS = Number(process.env.BENCH_CLIENT_ROUNDS ?? 5)
const CONFIG = { koalaMaxSockets: 32, koalaTimeoutMs: 2_000, koalaMaxRetries: 0, koalaBackoffBaseMs: 100, koalaBackoffMaxMs: 2_000 }
const NO_RETRIES = { maxRetries: CONFIG.koalaMaxRetries }

// A bare node:http Koala in its own process, so this process's CPU is the client's alone.
const STUB = `const server = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}')) });
server.keepAliveTimeout = 60000; server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'))`

/** Sends REQUESTS rendered requests, CONCURRENCY at a time; returns wall ms and this process's CPU ms. */
async function drive(client: KoalaClient, target: { baseUrl: string; publicApiKey: string }, request: RenderedRequest) {
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  let next = 0
  const lane = async () => {
    while (next++ < REQUESTS) {
      const result = await client.send(request, target)
      if (!result.ok) throw new Error(`bench request failed: ${JSON.stringify(result)}`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  const used = process.cpuUsage(cpu)
  return { wallMs: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: (used.user + used.system) / 1000 }
}

/**
 * The Koala client on axios (the product) next to the node:http client it replaced
 * (bench/node-http-koala-client.ts), sending the same rendered body to one local stub,
 * alternating rounds; best round of each.
 */
export async function koalaClientBench(): Promise<{ lines: string[] }> {
  const stub = spawn(process.execPath, ['-e', STUB], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise<string>((resolve, reject) => {
      stub.stdout.on('data', (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString())
        if (match) resolve(match[1])
      })
      stub.once('exit', () => reject(new Error('the stub Koala exited')))
    })
    const target = { baseUrl: `http://127.0.0.1:${port}/web/projects`, publicApiKey: 'bench-key' }
    const [event] = trackEvents(1)
    const request: RenderedRequest = { endpoint: 'batch', body: JSON.stringify({ email: 'ada@example.com', events: [event] }), who: '' }
    const sides = [
      { name: 'axios (src/koala/koala-client.ts)', client: createKoalaClient(CONFIG, NO_RETRIES), best: { wallMs: Infinity, cpuMs: Infinity } },
      { name: 'node:http baseline (bench/node-http-koala-client.ts)', client: createNodeHttpClient(CONFIG), best: { wallMs: Infinity, cpuMs: Infinity } }
    ]
    for (const side of sides) await drive(side.client, target, request) // warm-up: JIT, sockets
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const run = await drive(side.client, target, request)
        side.best = { wallMs: Math.min(side.best.wallMs, run.wallMs), cpuMs: Math.min(side.best.cpuMs, run.cpuMs) }
      }
    }
    for (const side of sides) side.client.close()
    const [ours, base] = sides
    const line = (side: (typeof sides)[number]) =>
      `  ${side.name.padEnd(55)} ${((REQUESTS / side.best.wallMs) * 1000).toFixed(0).padStart(6)} req/s  ${((side.best.cpuMs / REQUESTS) * 1000).toFixed(0).padStart(4)} µs client CPU/request`
    return {
      lines: [
        `koala client: ${REQUESTS} POSTs of ${Buffer.byteLength(request.body)} B, ${CONCURRENCY} in flight, to a node:http stub in its own process (best of ${ROUNDS})`,
        line(ours),
        line(base),
        `  axios / node:http: ${(ours.best.cpuMs / base.best.cpuMs).toFixed(2)}x the CPU per request, ${(base.best.wallMs / ours.best.wallMs).toFixed(2)}x the rate`
      ]
    }
  } finally {
    stub.kill()
  }
}
