import { expect } from 'chai'
import http, { type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { runDoor, type Door } from '../../src/server/door-request'
import { createMetrics } from '../../src/server/metrics'
import { LogCapture } from './service-harness'

describe('runDoor', function () {
  let server: Server | undefined
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)

  beforeEach(() => {
    unhandled.length = 0
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled)
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)))
    server = undefined
  })

  /** Serves every request with `door` on a real port, and POSTs once to it. */
  async function answerOf(door: Door, logs: LogCapture): Promise<{ status: number; body: unknown }> {
    const metrics = createMetrics()
    server = http.createServer((req, res) => runDoor(door, 'webhook', 'default', req, res, { logger: pino({ level: 'info' }, logs), metrics }))
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const response = await fetch(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/webhook/default`, { method: 'POST', body: '{}' })
    return { status: response.status, body: await response.json() }
  }

  const failures = [
    ['undefined', undefined, { name: 'undefined', message: 'undefined' }],
    ['null', null, { name: 'object', message: 'null' }],
    ['a string', 'no', { name: 'string', message: 'no' }],
    ['an Error', new TypeError('boom'), { name: 'TypeError', message: 'boom' }]
  ] as const
  for (const [what, reason, logged] of failures) {
    it(`answers 500 in JSON, and logs no stack, when a door fails with ${what}`, async () => {
      const logs = new LogCapture()
      const answer = await answerOf(() => Promise.reject(reason), logs)
      expect(answer).to.deep.equal({ status: 500, body: { error: 'internal error; Segment will retry', code: 'INTERNAL' } })
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).to.deep.equal([])
      const line = JSON.parse(logs.lines.find((l) => l.includes('unexpected error'))!)
      expect(line.err).to.include(logged)
      expect(line.err.stack ?? '').to.equal('')
    })
  }

  it('only logs a failure that comes after the answer went out', async () => {
    const logs = new LogCapture()
    const answer = await answerOf(async ({ res }) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      throw new Error('late')
    }, logs)
    expect(answer).to.deep.equal({ status: 200, body: { ok: true } })
    expect(logs.text).to.contain('failed after answering')
  })
})
