import http from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { expect } from 'chai'
import nock from 'nock'
import { version } from '../../package.json'
import {
  createKoalaClient,
  USER_AGENT,
  type DeliveryObserver,
  type DeliveryResult,
  type KoalaClient,
  type KoalaClientConfig
} from '../../src/koala/koala-client'
import type { KoalaRequest } from '../../src/koala/request-schema'
import { fakeClock, type FakeClock } from '../support/fake-clock'
import { heldReply } from '../support/held-reply'
import { until } from '../support/until'

const ORIGIN = 'http://koala.test'
const BASE = `${ORIGIN}/web/projects`
const KEY = 'pk_SECRET_key_0123'
const PATH = `/web/projects/${KEY}/batch`
const EMAIL = 'ada.lovelace@example.com'
const REQUEST: KoalaRequest = {
  endpoint: 'batch',
  body: { email: EMAIL, events: [{ type: 'track', event: 'Signed Up', message_id: 'm-1' }] }
}
const CONFIG: KoalaClientConfig = {
  koalaMaxSockets: 4,
  koalaTimeoutMs: 200,
  koalaBackoffBaseMs: 10,
  koalaBackoffMaxMs: 40
}
const MAX_RETRIES = 3

type Seen = { attempts: Array<{ endpoint: string; status?: number; code?: string; durationMs: number; endedAt: number }>; retries: { endpoint: string; delayMs: number; reason: string }[] }

/**
 * A client on a fake clock, and an observer that keeps what it saw. Sleeps are recorded and
 * move the clock at once; an attempt times out only when the test advances the clock past its
 * bound (see timeOutTheAttempt), however slow this machine is.
 */
function harness({ maxRetries = MAX_RETRIES, ...config }: Partial<KoalaClientConfig> & { maxRetries?: number } = {}) {
  const waits: number[] = []
  const seen: Seen = { attempts: [], retries: [] }
  const clock = fakeClock(Date.UTC(2026, 10, 2))
  const observer: DeliveryObserver = {
    onAttempt: (info) => seen.attempts.push({ ...info, endedAt: clock.now() }),
    onRetry: (info) => seen.retries.push(info)
  }
  const sleep = (ms: number) => {
    waits.push(ms)
    return clock.sleep(ms)
  }
  const client = createKoalaClient({ ...CONFIG, ...config }, { maxRetries }, observer, { sleep, random: () => 0.5, now: clock.now, setTimer: clock.setTimer })
  clients.push(client)
  return { client, waits, seen, clock }
}

/** Once an attempt is under way (its timer set, and `ready()`), moves the clock to its bound; returns the bound it had. */
async function timeOutTheAttempt(clock: FakeClock, ready: () => boolean): Promise<number> {
  await until(() => clock.pendingTimers().length === 1 && ready(), { what: 'an attempt under way' })
  const [leftMs] = clock.pendingTimers()
  clock.advance(leftMs)
  return leftMs
}

const clients: KoalaClient[] = []
const heldReplies: ReturnType<typeof heldReply>[] = []
/** A Koala that holds its answer (released after the test): an attempt that can only end by timing out. */
const held = () => {
  const slow = heldReply()
  heldReplies.push(slow)
  return slow
}
const target = { baseUrl: BASE, publicApiKey: KEY }

function connectionError(code: string): Error {
  // Node's own messages name the host and port; a proxy's may name the whole URL. Ours must not repeat them.
  return Object.assign(new Error(`${code} while POSTing ${BASE}/${KEY}/batch for ${EMAIL}`), { code })
}

function expectNoSecrets(...values: unknown[]) {
  for (const value of values) {
    const text = JSON.stringify(value)
    expect(text).not.to.include(KEY)
    expect(text).not.to.include(EMAIL)
  }
}

/** Listens on a free loopback port; resolves with the server's origin. */
async function listenLocal(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Closes a server and its keep-alive connections, which would otherwise hold close() open. */
async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

describe('KoalaClient', () => {
  before(() => nock.disableNetConnect())
  afterEach(() => {
    for (const slow of heldReplies.splice(0)) slow.release()
    nock.cleanAll()
    while (clients.length > 0) clients.pop()!.close()
  })
  after(() => nock.enableNetConnect())

  describe('success and permanent failures', () => {
    it('sends the body as JSON with our User-Agent and Content-Type', async () => {
      const scope = nock(ORIGIN)
        .post(PATH, REQUEST.body as nock.RequestBodyMatcher)
        .matchHeader('user-agent', `segment-koala-adapter/${version}`)
        .matchHeader('content-type', /^application\/json/)
        .reply(200, { ok: true })
      const { client } = harness()
      expect(await client.send(REQUEST, target)).to.deep.equal({ ok: true, status: 200, attempts: 1 })
      scope.done()
    })

    it('takes 204 as success', async () => {
      nock(ORIGIN).post(PATH).reply(204)
      const { client } = harness()
      expect(await client.send(REQUEST, target)).to.deep.equal({ ok: true, status: 204, attempts: 1 })
    })

    it('URL-encodes the key into the path, and posts account requests to accounts/batch', async () => {
      const scope = nock(ORIGIN).post('/web/projects/pk%2Fwith%20space%3F/accounts/batch').reply(200, { ok: true })
      const { client } = harness()
      const account: KoalaRequest = { endpoint: 'accounts/batch', body: { domain: 'acme.com', identifies: [{ type: 'identify' }] } }
      const result = await client.send(account, { baseUrl: `${BASE}/`, publicApiKey: 'pk/with space?' })
      expect(result.ok).to.equal(true)
      scope.done()
    })

    it('passes a 400 back as rejected with Koala\'s error body, without retrying', async () => {
      nock(ORIGIN).post(PATH).reply(400, { error: 'profile_id or email required', code: 'missing_identifier' })
      const { client, waits, seen } = harness()
      expect(await client.send(REQUEST, target)).to.deep.equal({
        ok: false,
        kind: 'rejected',
        status: 400,
        error: { error: 'profile_id or email required', code: 'missing_identifier' },
        attempts: 1
      })
      expect(waits).to.deep.equal([])
      expect(seen.attempts).to.have.length(1)
    })

    it('passes a 401 back as rejected', async () => {
      nock(ORIGIN).post(PATH).reply(401)
      const { client, seen } = harness()
      const result = await client.send(REQUEST, target)
      expect(result).to.include({ ok: false, kind: 'rejected', status: 401, attempts: 1 })
      expect(seen.retries).to.deep.equal([])
    })

    it('does not retry 501, but reports it as unavailable so Segment keeps the events', async () => {
      nock(ORIGIN).post(PATH).reply(501)
      const { client } = harness()
      expect(await client.send(REQUEST, target)).to.deep.equal({
        ok: false,
        kind: 'unavailable',
        status: 501,
        attempts: 1,
        message: 'Koala batch: HTTP 501 after 1 attempt (not retryable)'
      })
    })

    it('never follows a redirect: a 302 is unavailable, and its Location gets no request', async () => {
      nock(ORIGIN).post(PATH).reply(302, '', { Location: 'http://elsewhere.test/collect' })
      const elsewhere = nock('http://elsewhere.test').post('/collect').reply(200)
      const { client } = harness()
      expect(await client.send(REQUEST, target)).to.include({ ok: false, kind: 'unavailable', status: 302, attempts: 1 })
      expect(elsewhere.isDone()).to.equal(false)
    })

    it('keeps at most 64 KB of an error body', async () => {
      nock(ORIGIN).post(PATH).reply(400, 'x'.repeat(200 * 1024))
      const { client } = harness()
      const result = await client.send(REQUEST, target)
      expect(result).to.include({ kind: 'rejected', status: 400 })
      expect((result as { error: string }).error).to.have.length(64 * 1024)
    })

    it('refuses a base URL that is not http or https without sending anything', async () => {
      const { client } = harness()
      expect(await client.send(REQUEST, { baseUrl: 'ftp://koala.test/web/projects', publicApiKey: KEY })).to.include({
        kind: 'unavailable',
        code: 'ERR_INVALID_PROTOCOL'
      })
    })

    it('does not retry ENOTFOUND (a wrong base URL does not heal in seconds)', async () => {
      nock(ORIGIN).post(PATH).replyWithError(connectionError('ENOTFOUND'))
      const { client } = harness()
      const result = await client.send(REQUEST, target)
      expect(result).to.include({ kind: 'unavailable', code: 'ENOTFOUND', attempts: 1 })
    })
  })

  describe('transient failures', () => {
    it('retries a 500, then succeeds on the second attempt', async () => {
      nock(ORIGIN).post(PATH).reply(500).post(PATH).reply(200, { ok: true })
      const { client, waits, seen } = harness()
      expect(await client.send(REQUEST, target)).to.deep.equal({ ok: true, status: 200, attempts: 2 })
      expect(waits).to.have.length(1)
      expect(waits[0]).to.be.within(5, 10)
      expect(seen.retries).to.deep.equal([{ endpoint: 'batch', delayMs: waits[0], reason: 'HTTP 500' }])
      expect(seen.attempts).to.have.length(2)
      expect(seen.attempts[0]).to.include({ endpoint: 'batch', status: 500 })
    })

    it('waits what Retry-After says after a 429', async () => {
      nock(ORIGIN).post(PATH).reply(429, { error: 'slow down' }, { 'Retry-After': '1' }).post(PATH).reply(200, { ok: true })
      const { client, waits } = harness()
      expect(await client.send(REQUEST, target)).to.deep.equal({ ok: true, status: 200, attempts: 2 })
      expect(waits).to.deep.equal([1_000])
    })

    it('retries an attempt that timed out', async () => {
      const slow = held()
      nock(ORIGIN).post(PATH).reply(slow.reply).post(PATH).reply(200, { ok: true })
      const { client, seen, clock } = harness({ koalaTimeoutMs: 100 })
      const sending = client.send(REQUEST, target)
      expect(await timeOutTheAttempt(clock, () => slow.arrived() === 1)).to.equal(100)
      expect(await sending).to.deep.equal({ ok: true, status: 200, attempts: 2 })
      expect(seen.attempts[0]).to.include({ code: 'ETIMEDOUT', durationMs: 100 })
    })

    it('retries a connection reset', async () => {
      nock(ORIGIN).post(PATH).replyWithError(connectionError('ECONNRESET')).post(PATH).reply(200, { ok: true })
      const { client, seen } = harness()
      expect(await client.send(REQUEST, target)).to.deep.equal({ ok: true, status: 200, attempts: 2 })
      expect(seen.retries[0].reason).to.equal('ECONNRESET')
    })

    it('gives up after maxRetries with the last status', async () => {
      nock(ORIGIN).post(PATH).times(4).reply(503)
      const { client, waits } = harness({ maxRetries: 3 })
      expect(await client.send(REQUEST, target)).to.deep.equal({
        ok: false,
        kind: 'unavailable',
        status: 503,
        attempts: 4,
        message: 'Koala batch: HTTP 503 after 4 attempts (retry limit)'
      })
      expect(waits).to.deep.equal([7, 15, 30])
    })
  })

  describe('deadline', () => {
    it('stops retrying a persistent 503 before a deadline 300 ms away, and never attempts after it', async () => {
      // Each 503 takes 20 ms and each backoff its delay, on the fake clock: the arithmetic is exact on any machine.
      const { client, seen, clock } = harness({ maxRetries: 100, koalaBackoffBaseMs: 20 })
      nock(ORIGIN).post(PATH).reply(() => {
        clock.advance(20)
        return [503, '']
      }).persist()
      const deadline = clock.now() + 300
      const result = await client.send(REQUEST, target, { deadline })
      expect(result).to.include({ ok: false, kind: 'unavailable', status: 503 })
      expect(result.attempts).to.be.greaterThan(2)
      expect(seen.attempts).to.have.length(result.attempts)
      expect(seen.attempts.every((attempt) => attempt.durationMs === 20 && attempt.endedAt - attempt.durationMs < deadline)).to.equal(true)
      expect(clock.now()).to.be.at.most(deadline)
      expect((result as { message: string }).message).to.match(/\(deadline\)$/)
    })

    it('cuts an attempt\'s timeout to the time left', async () => {
      const slow = held()
      nock(ORIGIN).post(PATH).reply(slow.reply)
      const { client, clock } = harness({ koalaTimeoutMs: 5_000 })
      const deadline = clock.now() + 250
      const sending = client.send(REQUEST, target, { deadline })
      expect(await timeOutTheAttempt(clock, () => slow.arrived() === 1)).to.equal(250)
      expect(await sending).to.include({ ok: false, kind: 'unavailable', code: 'ETIMEDOUT', attempts: 1 })
      expect(clock.now()).to.equal(deadline)
    })

    it('returns at once, with retryAfterMs, when Retry-After reaches past the deadline', async () => {
      nock(ORIGIN).post(PATH).reply(503, '', { 'Retry-After': '30' })
      const { client, waits, clock } = harness()
      const result = await client.send(REQUEST, target, { deadline: clock.now() + 2_000 })
      expect(result).to.deep.equal({
        ok: false,
        kind: 'unavailable',
        status: 503,
        retryAfterMs: 30_000,
        attempts: 1,
        message: 'Koala batch: HTTP 503 after 1 attempt (deadline)'
      })
      expect(waits).to.deep.equal([])
    })

    it('makes no attempt when the deadline has already passed', async () => {
      const { client, seen, clock } = harness()
      const result = await client.send(REQUEST, target, { deadline: clock.now() - 1 })
      expect(result).to.include({ ok: false, kind: 'unavailable', attempts: 0 })
      expect(seen.attempts).to.deep.equal([])
    })
  })

  describe('secrets', () => {
    let closedPort = 0
    before(async () => {
      const server = http.createServer()
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      closedPort = (server.address() as AddressInfo).port
      await new Promise((resolve) => server.close(resolve))
      nock.enableNetConnect('127.0.0.1')
    })
    after(() => nock.disableNetConnect())

    it('keeps the key and emails out of a refused connection\'s result and observer events', async () => {
      const { client, seen } = harness({ maxRetries: 1 })
      const result = await client.send(REQUEST, { baseUrl: `http://127.0.0.1:${closedPort}/web/projects`, publicApiKey: KEY })
      expect(result).to.include({ ok: false, kind: 'unavailable', code: 'ECONNREFUSED', attempts: 2 })
      expectNoSecrets(result, seen)
    })

    it('keeps them out of timeouts and errors whose own text names them', async () => {
      const slow = held()
      nock(ORIGIN).post(PATH).reply(slow.reply).post(PATH).replyWithError(connectionError('ECONNRESET'))
      const { client, seen, clock } = harness({ maxRetries: 1, koalaTimeoutMs: 50 })
      const sending = client.send(REQUEST, target)
      await timeOutTheAttempt(clock, () => slow.arrived() === 1)
      const result: DeliveryResult = await sending
      expect(result).to.include({ kind: 'unavailable', code: 'ECONNRESET', attempts: 2 })
      expect(seen.attempts[0]).to.include({ endpoint: 'batch', code: 'ETIMEDOUT' })
      expectNoSecrets(result, seen)
    })

    it('reduces an error code that is not a plain code to ERR_UNKNOWN', async () => {
      nock(ORIGIN).post(PATH).replyWithError(Object.assign(new Error('boom'), { code: `bad ${EMAIL}` }))
      const { client } = harness()
      const result = await client.send(REQUEST, target)
      expect(result).to.include({ kind: 'unavailable', code: 'ERR_UNKNOWN', attempts: 1 })
      expectNoSecrets(result)
    })
  })

  describe('connection pool (a real local server; nock switched off)', () => {
    let server: http.Server
    let baseUrl = ''
    const sockets: (number | undefined)[] = []
    let cutNext = false
    let stallNext = false
    let stalledHeadersSent = false
    const seenHeaders: http.IncomingHttpHeaders[] = []
    const seenBodies: string[] = []

    before(async () => {
      nock.restore()
      server = http.createServer((req, res) => {
        sockets.push(req.socket.remotePort)
        seenHeaders.push(req.headers)
        if (cutNext) {
          // A 503 whose body never arrives whole: the client must not take it for an answer.
          cutNext = false
          res.writeHead(503, { 'content-type': 'application/json', 'content-length': '100' })
          res.write('{"error":')
          setTimeout(() => req.socket.destroy(), 10)
          return
        }
        if (stallNext) {
          // Headers at once, then a body that never comes: only a bound on the whole attempt ends it.
          stallNext = false
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
          res.write('{"ok":', () => (stalledHeadersSent = true))
          return
        }
        const chunks: Buffer[] = []
        req.on('data', (chunk: Buffer) => chunks.push(chunk))
        req.on('end', () => {
          seenBodies.push(Buffer.concat(chunks).toString('utf8'))
          setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 10)
        })
      })
      baseUrl = `${await listenLocal(server)}/web/projects`
    })
    after(async () => {
      await closeServer(server)
      nock.activate()
    })
    beforeEach(() => {
      sockets.length = 0
    })

    it('retries an answer cut off in the middle of its body, as a reset', async () => {
      cutNext = true
      const { client, seen } = harness()
      const result = await client.send({ ...REQUEST }, { baseUrl, publicApiKey: KEY })
      expect(result).to.deep.equal({ ok: true, status: 200, attempts: 2 })
      expect(seen.retries.map((retry) => retry.reason)).to.deep.equal(['ECONNRESET'])
    })

    it('reuses one keep-alive socket for requests sent one after another', async () => {
      const { client } = harness()
      for (let i = 0; i < 4; i++) expect((await client.send(REQUEST, { baseUrl, publicApiKey: KEY })).ok).to.equal(true)
      expect(new Set(sockets).size).to.equal(1)
      expect(seenHeaders.at(-1)).to.include({ host: new URL(baseUrl).host, 'content-type': 'application/json', 'user-agent': USER_AGENT })
      expect(seenHeaders.at(-1)!['content-length']).to.equal(String(Buffer.byteLength(JSON.stringify(REQUEST.body))))
    })

    it('bounds the whole attempt, body included: an answer stalled after its headers times out and is retried', async () => {
      stallNext = true
      stalledHeadersSent = false
      const { client, seen, clock } = harness({ koalaTimeoutMs: 150 })
      const sending = client.send(REQUEST, { baseUrl, publicApiKey: KEY })
      // The bound fires only once the headers (and a first piece of the body) are on their way.
      await timeOutTheAttempt(clock, () => stalledHeadersSent)
      const result = await sending
      expect(result).to.deep.equal({ ok: true, status: 200, attempts: 2 })
      expect(seen.attempts[0]).to.include({ code: 'ETIMEDOUT' })
    })

    it('sends a rendered body byte for byte (serialised once, never re-parsed or trimmed)', async () => {
      const text = ' {"email":"ada@example.com",  "events":[]}\n'
      const { client } = harness()
      expect((await client.send({ endpoint: 'batch', body: text, who: '' }, { baseUrl, publicApiKey: KEY })).ok).to.equal(true)
      expect(seenBodies.at(-1)).to.equal(text)
    })

    it('sends text beyond ASCII whole, with Content-Length in bytes', async () => {
      const request: KoalaRequest = { endpoint: 'batch', body: { email: EMAIL, events: [{ type: 'track', event: 'Café ☕ 😀', properties: { note: 'naïve \u0000 "quoted"' } }] } }
      const { client } = harness()
      expect((await client.send(request, { baseUrl, publicApiKey: KEY })).ok).to.equal(true)
      const text = JSON.stringify(request.body)
      expect(Buffer.byteLength(text)).to.be.above(text.length)
      expect(seenHeaders.at(-1)!['content-length']).to.equal(String(Buffer.byteLength(text)))
      expect(JSON.parse(seenBodies.at(-1)!)).to.deep.equal(request.body)
    })

    it('shares one pool of at most koalaMaxSockets across concurrent requests', async () => {
      const { client } = harness({ koalaMaxSockets: 2 })
      const results = await Promise.all(Array.from({ length: 10 }, () => client.send(REQUEST, { baseUrl, publicApiKey: KEY })))
      expect(results.every((result) => result.ok)).to.equal(true)
      expect(sockets).to.have.length(10)
      expect(new Set(sockets).size).to.equal(2)
    })
  })
  describe('egress proxy (HTTP_PROXY / NO_PROXY; a real CONNECT proxy; nock switched off)', () => {
    let target: http.Server
    let proxy: http.Server
    let baseUrl = ''
    let proxyUrl = ''
    const tunnels: string[] = []
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY }

    before(async () => {
      nock.restore()
      target = http.createServer((req, res) => {
        req.resume()
        req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
      })
      proxy = http.createServer((_req, res) => res.writeHead(405).end())
      proxy.on('connect', (req: http.IncomingMessage, client: import('node:net').Socket, head: Buffer) => {
        tunnels.push(String(req.url))
        const [host, port] = String(req.url).split(':')
        const upstream = connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
          upstream.write(head)
          upstream.pipe(client)
          client.pipe(upstream)
        })
        upstream.on('error', () => client.destroy())
        client.on('error', () => upstream.destroy())
      })
      baseUrl = `${await listenLocal(target)}/web/projects`
      proxyUrl = await listenLocal(proxy)
    })
    after(async () => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
      await Promise.all([closeServer(target), closeServer(proxy)])
      nock.activate()
    })
    beforeEach(() => {
      tunnels.length = 0
    })

    it('tunnels through the proxy HTTP_PROXY names, keeping the connection for the next request', async () => {
      process.env.HTTP_PROXY = proxyUrl
      delete process.env.NO_PROXY
      const { client } = harness()
      for (let i = 0; i < 3; i++) expect(await client.send(REQUEST, { baseUrl, publicApiKey: KEY })).to.deep.equal({ ok: true, status: 200, attempts: 1 })
      expect(tunnels).to.deep.equal([new URL(baseUrl).host])
    })

    it('connects directly to a host NO_PROXY lists', async () => {
      process.env.HTTP_PROXY = proxyUrl
      process.env.NO_PROXY = '127.0.0.1'
      const { client } = harness()
      expect(await client.send(REQUEST, { baseUrl, publicApiKey: KEY })).to.include({ ok: true })
      expect(tunnels).to.deep.equal([])
    })

    it('reports a proxy setting that is not a URL as a code, never its text (it may hold a password)', async () => {
      process.env.HTTP_PROXY = 'http://user:hunter2@[bad'
      delete process.env.NO_PROXY
      const { client } = harness()
      const result = await client.send(REQUEST, { baseUrl, publicApiKey: KEY })
      expect(result).to.include({ ok: false, kind: 'unavailable', code: 'ERR_INVALID_PROXY' })
      expect(JSON.stringify(result)).not.to.include('hunter2')
    })
  })
})
