import path from 'node:path'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import { signBody } from '../src/server/signature'
import { startChild } from './child-process'
import { trackEvents } from './generate-events'
const autocannon = require('autocannon')
const ROOT = path.join(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')
const SECRET = 'bench-shared-secret'
async function main() {
  const bodies = trackEvents(2000, 200, 11).map((e) => { const body = JSON.stringify(e); return { body, signature: signBody(body, SECRET) } })
  const sim = await startChild([BIN, 'sim', '--port', '0'], /listening on (http:\/\/\S+)/)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prof-'))
  const extra = (process.env.PROF ?? '1') === '1' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []
  const service = await startChild([...extra, BIN, 'serve', '--port', '0'], /listening on (http:\/\/\S+)/, { KOALA_PUBLIC_API_KEY: 'k', KOALA_BASE_URL: `${sim.match[1]}/web/projects`, SEGMENT_SHARED_SECRET: SECRET, HOST: '127.0.0.1', QUEUE_URL: `sqlite:${dir}/q.db` })
  let next = 0
  const result = await autocannon({ url: `${service.match[1]}/webhook/default`, connections: 16, duration: Number(process.env.SECS ?? 10), requests: [{ method: 'POST', setupRequest: (r: any) => { const { body, signature } = bodies[next++ % bodies.length]; return { ...r, body, headers: { 'content-type': 'application/json', 'x-signature': signature } } } }] })
  console.log('req/s', result.requests.average, 'non2xx', result.non2xx, 'p99', result.latency.p99)
  await service.stop(); await sim.stop()
}
main()
