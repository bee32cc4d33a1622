import { expect } from 'chai'
import { AdapterError } from '../../src/errors'
import { doorRoute } from '../../src/server/door-route'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { KeepAliveConnection } from './keep-alive-connection'
import { ADMIN, ADMIN_TOKEN, KOALA_KEY, post, startHarness, trackEvent, type Harness } from './service-harness'

describe('door routes (plain node:http, as express matched them)', function () {
  this.timeout(20_000)

  it('names the door and its URL-decoded parameter, in any case, with a trailing slash or a query', () => {
    expect(doorRoute('/webhook/default')).to.deep.equal({ door: 'webhook', param: 'default' })
    expect(doorRoute('/WebHook/default/?source=segment')).to.deep.equal({ door: 'webhook', param: 'default' })
    expect(doorRoute('/webhook/acme%20eu')).to.deep.equal({ door: 'webhook', param: 'acme eu' })
    expect(doorRoute('/v1/track')).to.deep.equal({ door: 'tracking', param: 'track' })
    expect(doorRoute('/V1/batch?x=1')).to.deep.equal({ door: 'tracking', param: 'batch' })
    expect(doorRoute('http://adapter.example:8080/webhook/default')).to.deep.equal({ door: 'webhook', param: 'default' })
    expect(doorRoute('https://user@adapter.example/v1/track?x=1')).to.deep.equal({ door: 'tracking', param: 'track' })
  })

  it('leaves every other path to the other routes', () => {
    for (const url of ['/webhook', '/webhook/', '/webhook/a/b', '/webhooks/a', '/v1/', '/v2/track', '/healthz', '//webhook/a', 'http://x/webhook/a/b', 'http://x', 'webhook/a']) {
      expect(doorRoute(url), url).to.equal(undefined)
    }
  })

  it('refuses a parameter that is not valid URL encoding, without quoting it', () => {
    expect(() => doorRoute('/webhook/pk_live%E0%A4%A'))
      .to.throw(AdapterError, 'the path is not valid URL encoding')
      .with.property('code', 'INPUT_INVALID')
  })

  describe('at the service', () => {
    let sim: RunningSimulator
    let service: Harness

    before(async () => {
      sim = await startSimulator({ port: 0 })
      service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, ADMIN_TOKEN }, overrides: { maxBodyBytes: 64 * 1024 } })
    })
    after(async () => {
      await service.stop()
      await sim.close()
    })
    beforeEach(() => sim.clear())

    it('delivers through a path express also took (other case, trailing slash, query)', async () => {
      const answer = await post(`${service.url}/WebHook/default/?source=segment`, trackEvent(1))
      expect(answer.status).to.equal(200)
      expect(answer.body.delivered).to.equal(1)
      expect(sim.requests()).to.have.length(1)
    })

    it('answers 400 for a badly encoded workspace, 404 for a GET to a door and for an unknown path, all in JSON', async () => {
      const bad = await post(`${service.url}/webhook/pk_live%E0%A4%A`, trackEvent(1))
      expect(bad.status).to.equal(400)
      expect(bad.body).to.deep.equal({ error: 'the path is not valid URL encoding', code: 'INPUT_INVALID' })
      expect(service.logs.text).not.to.contain('pk_live')
      const get = await fetch(`${service.url}/webhook/default`)
      expect(get.status).to.equal(404)
      expect(await get.json()).to.deep.equal({ error: 'no such route', code: 'NOT_FOUND' })
      expect((await post(`${service.url}/webhook/default/extra`, trackEvent(1))).status).to.equal(404)
      expect(sim.requests()).to.have.length(0)
    })

    it('refuses a Content-Length over the limit with 413 before a byte of the body is sent', async () => {
      const connection = new KeepAliveConnection(service.port)
      connection.write(['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Content-Length: ${10 * 1024 * 1024}`, '', ''].join('\r\n'))
      const answer = await connection.answer()
      connection.destroy()
      expect(answer).to.include({ status: 413 })
      expect('body' in answer && JSON.parse(answer.body).code).to.equal('BODY_TOO_LARGE')
      expect('head' in answer && answer.head).to.match(/x-request-id: [0-9a-f-]{36}/i)
    })

    it('answers 413 for a chunked body over the limit, reads off its rest, and answers the next request on the connection', async () => {
      const chunk = 'x'.repeat(16 * 1024)
      const chunks = (n: number) => `${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(n)
      const next = JSON.stringify(trackEvent(2))
      const connection = new KeepAliveConnection(service.port)
      connection.write(['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked', '', chunks(6)].join('\r\n'))
      expect(await connection.answer()).to.include({ status: 413 })
      connection.write(chunks(2) + '0\r\n\r\n' + ['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Content-Length: ${next.length}`, '', next].join('\r\n'))
      const second = await connection.answer()
      connection.destroy()
      expect(second).to.include({ status: 200 })
      expect(sim.requests()).to.have.length(1)
    })

    it('times only answered requests: one whose client went away mid-body is not in the latency histogram', async () => {
      const before = await answeredCount(service)
      const gone = new KeepAliveConnection(service.port)
      gone.write(['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 100', '', '{"type":"track"'].join('\r\n'))
      gone.end()
      await gone.closedByServer()
      expect((await post(`${service.url}/webhook/default`, trackEvent(3))).status).to.equal(200)
      expect(await answeredCount(service)).to.equal(before + 1)
    })
  })
})

/** How many webhook door requests the latency histogram holds, all statuses together. */
async function answeredCount(service: Harness): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
  return text
    .split('\n')
    .filter((line) => line.startsWith('koala_adapter_http_request_duration_seconds_count{route="webhook"'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
}
