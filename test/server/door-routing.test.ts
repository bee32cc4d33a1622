import { expect } from 'chai'
import net from 'node:net'
import { AdapterError } from '../../src/errors'
import { doorRoute } from '../../src/server/door-route'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
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
      const answer = await rawRequest(service.port, ['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Content-Length: ${10 * 1024 * 1024}`, '', ''].join('\r\n'))
      expect(answer).to.match(/^HTTP\/1\.1 413 /)
      expect(answer).to.contain('"code":"BODY_TOO_LARGE"')
      expect(answer).to.match(/x-request-id: [0-9a-f-]{36}/i)
    })

    it('answers 413 for a chunked body over the limit, reads off its rest, and answers the next request on the connection', async () => {
      const chunk = 'x'.repeat(16 * 1024)
      const chunks = (n: number) => `${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(n)
      const next = JSON.stringify(trackEvent(2))
      const conversation = new Conversation(service.port)
      conversation.write(['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked', '', chunks(6)].join('\r\n'))
      expect(await conversation.answer(1)).to.match(/^HTTP\/1\.1 413 /)
      conversation.write(chunks(2) + '0\r\n\r\n' + ['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Content-Length: ${next.length}`, '', next].join('\r\n'))
      const both = await conversation.answer(2)
      conversation.close()
      expect(both.match(/HTTP\/1\.1 \d+/g)).to.deep.equal(['HTTP/1.1 413', 'HTTP/1.1 200'])
      expect(sim.requests()).to.have.length(1)
    })

    it('times only answered requests: one whose client went away mid-body is not in the latency histogram', async () => {
      const before = await answeredCount(service)
      const gone = new Conversation(service.port)
      gone.write(['POST /webhook/default HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 100', '', '{"type":"track"'].join('\r\n'))
      gone.end()
      await gone.closed
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

/** A raw keep-alive connection: what it writes, and the answers read back as they arrive. */
class Conversation {
  private readonly socket: net.Socket
  private seen = ''
  private wake: () => void = () => undefined
  readonly closed: Promise<void>

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.on('data', (chunk) => {
      this.seen += chunk.toString('utf8')
      this.wake()
    })
    this.closed = new Promise((resolve) => this.socket.on('close', () => {
      this.wake()
      resolve()
    }))
    this.socket.on('error', () => undefined)
  }

  write(text: string): void {
    this.socket.write(text)
  }

  end(): void {
    this.socket.end()
  }

  close(): void {
    this.socket.destroy()
  }

  /** What was read once `count` answers, each with its whole JSON body, arrived (or the server closed the connection). */
  async answer(count: number): Promise<string> {
    while ((this.seen.match(/\r\n\r\n\{[^\r]*\}/g) ?? []).length < count && !this.socket.destroyed) {
      await new Promise<void>((resolve) => (this.wake = resolve))
    }
    return this.seen
  }
}

/** Sends `head` on a raw socket and resolves with what came back until the answer's body ended (or the socket closed). */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head))
    let seen = ''
    socket.on('data', (chunk) => {
      seen += chunk.toString('utf8')
      if (/\r\n\r\n[\s\S]*\}$/.test(seen)) {
        socket.destroy()
        resolve(seen)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(seen))
  })
}
