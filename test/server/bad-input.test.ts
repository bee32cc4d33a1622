import { expect } from 'chai'
import net from 'node:net'
import { gzipSync } from 'node:zlib'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { KOALA_KEY, post, startHarness, trackEvent, type Harness } from './service-harness'

describe('bad input at the doors', function () {
  this.timeout(20_000)
  let sim: RunningSimulator
  let service: Harness
  let hook: string

  before(async () => {
    sim = await startSimulator({ port: 0 })
    service = await startHarness({
      env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl },
      overrides: { maxBodyBytes: 1024 * 1024 }
    })
    hook = `${service.url}/webhook/default`
  })
  after(async () => {
    await service.stop()
    await sim.close()
  })
  beforeEach(() => sim.clear())

  it('answers 400 for invalid JSON and for an empty body', async () => {
    const invalid = await post(hook, '{"type":"track",')
    expect(invalid.status).to.equal(400)
    expect(invalid.body.error).to.match(/^the body is not valid JSON: /)
    expect((await post(hook, '')).status).to.equal(400)
  })

  it('never echoes the sender\'s body in a 400', async () => {
    for (const body of ['{"email":"ada@example.com", oops}', 'ada@example.com is not JSON', '{"type":"track","email":"ada@example.com"']) {
      const answer = await post(hook, body)
      expect(answer.status).to.equal(400)
      expect(JSON.stringify(answer.body), body).not.to.contain('ada@')
    }
  })

  it('answers 415 for a content type other than JSON', async () => {
    const answer = await post(hook, JSON.stringify(trackEvent(1)), { 'content-type': 'text/plain' })
    expect(answer.status).to.equal(415)
    expect(answer.body.error).to.equal('Content-Type must be application/json, got "text/plain"')
  })

  it('answers 413 for an oversized body and for a gzip bomb, and stays up', async () => {
    const big = JSON.stringify([trackEvent(1, { properties: { pad: 'x'.repeat(2 * 1024 * 1024) } })])
    expect((await post(hook, big)).status).to.equal(413)
    const bomb = gzipSync(Buffer.from(JSON.stringify({ type: 'track', event: 'x', pad: ' '.repeat(50 * 1024 * 1024) })))
    expect(bomb.length).to.be.below(100 * 1024)
    const response = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb })
    expect(response.status).to.equal(413)
    expect((await fetch(`${service.url}/healthz`)).status).to.equal(200)
  })

  it('inflates an honest gzip body', async () => {
    const body = gzipSync(Buffer.from(JSON.stringify(trackEvent(2))))
    const response = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body })
    expect(response.status).to.equal(200)
    expect(sim.requests()).to.have.length(1)
  })

  it('answers 400 for 10 000-deep nesting, without a stack overflow', async () => {
    const deep = '{"type":"track","event":"x","properties":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}'
    const answer = await post(hook, deep)
    expect(answer.status).to.equal(400)
    expect(answer.body.error).to.equal('JSON nested deeper than 128 levels')
  })

  it('delivers the good events of a mixed array and reports the bad ones by index with 400', async () => {
    const events = [trackEvent(1), { type: 'track' }, 'not an event', trackEvent(4, { properties: { pad: 'y'.repeat(40 * 1024) } }), trackEvent(5)]
    const answer = await post(hook, events)
    expect(answer.status).to.equal(400)
    expect(answer.body.code).to.equal('INPUT_INVALID')
    expect(answer.body.invalid.map((i: any) => i.index)).to.deep.equal([1, 2, 3])
    expect(answer.body.invalid[0].detail).to.match(/^\/event: /)
    expect(answer.body.invalid[2].detail).to.match(/over the 32768-byte limit/)
    expect(answer.body.delivered).to.equal(2)
    const sent = sim.requests().flatMap((r) => (r.body as any).events.map((e: any) => e.message_id))
    expect(sent).to.deep.equal(['msg-1', 'msg-5'])
  })

  it('keeps Object.prototype untouched by __proto__ keys and forwards nothing half-mapped', async () => {
    const hostile = '{"type":"track","event":"x","messageId":"p1","__proto__":{"polluted":true},"properties":{"__proto__":{"polluted":true}},"context":{"traits":{"email":"a@b.co"},"constructor":{"prototype":{"polluted":true}}}}'
    const answer = await post(hook, hostile)
    expect(answer.status).to.equal(200)
    expect(({} as any).polluted).to.equal(undefined)
    expect(sim.requests()).to.have.length(1)
  })

  it('answers 413 for more events than an Actions batch may hold', async () => {
    const tooMany = Array.from({ length: 4001 }, () => ({ type: 'track', event: 'x' }))
    const answer = await post(hook, tooMany)
    expect(answer.status).to.equal(413)
    expect(answer.body.error).to.equal('the body has 4001 events; at most 4000')
  })

  it('answers 404 for an unknown route', async () => {
    expect((await post(`${service.url}/v2/track`, {})).status).to.equal(404)
  })
})

describe('slow clients', function () {
  this.timeout(20_000)

  it('cuts off a client that never finishes its headers (slowloris)', async () => {
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY }, overrides: { headersTimeoutMs: 500 } })
    try {
      const { port } = new URL(service.url)
      const socket = net.connect(Number(port), '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write('POST /webhook/default HTTP/1.1\r\nHost: x\r\n')
      const started = Date.now()
      const closedAfter = await new Promise<number>((resolve) => {
        socket.on('data', () => {})
        socket.once('close', () => resolve(Date.now() - started))
      })
      expect(closedAfter).to.be.within(400, 5_000)
    } finally {
      await service.stop()
    }
  })
})
