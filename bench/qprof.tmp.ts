import path from 'node:path'
import { startChild } from '/work/main/bench/child-process'
import { trackEvents } from '/work/main/bench/generate-events'
import { signBody } from '/work/main/src/server/signature'
const autocannon = require('/work/main/node_modules/autocannon')
async function main() {
  const BIN = '/work/main/bin/koala-adapter.js'
  const sim = await startChild([BIN, 'sim', '--port', '0'], /listening on (http:\/\/\S+)/)
  const bodies = trackEvents(2000, 200, 11).map((e) => { const body = JSON.stringify(e); return { body, signature: signBody(body, 's') } })
  const file = `/tmp/qprof-${Date.now()}.db`
  const service = await startChild(['--cpu-prof', '--cpu-prof-dir=/tmp/qprof', BIN, 'serve', '--port', '0'], /listening on (http:\/\/\S+)/, { KOALA_PUBLIC_API_KEY: 'k', KOALA_BASE_URL: `${sim.match[1]}/web/projects`, SEGMENT_SHARED_SECRET: 's', HOST: '127.0.0.1', QUEUE_URL: `sqlite:${file}`, LOG_LEVEL: 'warn', ...(process.env.EXTRA ? JSON.parse(process.env.EXTRA) : {}) })
  let next = 0
  const r = await autocannon({ url: `${service.match[1]}/webhook/default`, connections: 16, duration: 8, requests: [{ method: 'POST', setupRequest: (req: any) => { const b = bodies[next++ % bodies.length]; return { ...req, body: b.body, headers: { 'content-type': 'application/json', 'x-signature': b.signature } } } }] })
  console.log('req/s', r.requests.average, 'non2xx', r.non2xx)
  await service.stop(); await sim.stop()
}
main()
