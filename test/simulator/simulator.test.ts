import { request as httpRequest } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { expect } from 'chai'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { until } from '../support/until'

const UA = 'segment-koala-adapter/test'
const PROFILE_ID = '3e6a2c18-3b02-40c4-b8d2-1842c193d3ba'
const PROFILE_BODY = {
  profile_id: PROFILE_ID,
  email: 'ada@example.com',
  events: [{ type: 'track', event: 'Signed Up', message_id: 'm1', sent_at: '2024-05-01T10:00:00.000Z', properties: { plan: 'pro' } }],
  identifies: [{ type: 'identify', traits: { email: 'ada@example.com', vip: true } }]
}
const ACCOUNT_BODY = { domain: 'example.com', identifies: [{ type: 'identify', traits: { group_id: 'dev', headcount: 12 } }] }

type Answer = { status: number; body: any; headers: Headers }

async function post(sim: RunningSimulator, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(sim.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': UA, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

async function call(sim: RunningSimulator, method: string, path: string): Promise<Answer> {
  const res = await fetch(sim.url + path, { method })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

const batch = (key = 'pk_test') => `/web/projects/${key}/batch`
const accounts = (key = 'pk_test') => `/web/projects/${key}/accounts/batch`

describe('Koala simulator', () => {
  let sim: RunningSimulator
  before(async () => {
    sim = await startSimulator()
  })
  after(() => sim.close())
  beforeEach(() => sim.reset())

  describe('ingestion', () => {
    it('accepts a profile batch and an account batch and lists them in order with headers and body', async () => {
      expect(await post(sim, batch(), PROFILE_BODY)).to.include({ status: 200 }).and.deep.include({ body: { ok: true } })
      expect((await post(sim, accounts(), ACCOUNT_BODY)).status).to.equal(200)

      const listed = (await call(sim, 'GET', '/_sim/requests')).body
      expect(listed.map((r: any) => [r.method, r.path, r.body])).to.deep.equal([
        ['POST', '/web/projects/pk_test/batch', PROFILE_BODY],
        ['POST', '/web/projects/pk_test/accounts/batch', ACCOUNT_BODY]
      ])
      expect(listed[0].headers).to.include({ 'user-agent': UA, 'content-type': 'application/json' })
      expect(listed[0].flags).to.deep.equal([])
      expect(sim.requests()).to.deep.equal(listed)
    })

    it('gives the base URL KOALA_BASE_URL should be set to', () => {
      expect(sim.baseUrl).to.equal(`http://127.0.0.1:${sim.port}/web/projects`)
    })

    it('accepts a request without User-Agent but flags it, as Koala may drop it as bot traffic', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(sim.url + batch(), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end(JSON.stringify({ email: 'ada@example.com' }))
      })
      expect(status).to.equal(200)
      const [record] = sim.requests()
      expect(record.headers).not.to.have.property('user-agent')
      expect(record.flags).to.deep.equal(['missing_user_agent'])
    })

    it('flags a message_id Koala would deduplicate, per key', async () => {
      await post(sim, batch(), PROFILE_BODY)
      await post(sim, batch('pk_other'), PROFILE_BODY)
      await post(sim, batch(), PROFILE_BODY)
      expect(sim.requests().map((r) => r.flags)).to.deep.equal([[], [], ['duplicate_message_id']])
    })

    const invalid: Array<[string, string, unknown, string]> = [
      ['no identity', batch(), { events: [{ type: 'track', event: 'x' }] }, '/: needs profile_id or email'],
      ['31 events', batch(), { email: 'a@example.com', events: Array.from({ length: 31 }, () => ({ type: 'track', event: 'x' })) }, '/events: Too big'],
      ['a bad UUID', batch(), { profile_id: 'not-a-uuid' }, '/profile_id: Invalid UUID'],
      [
        'an event without event',
        batch(),
        { email: 'a@example.com', events: [0, 1, 2, 3].map((i) => (i === 3 ? { type: 'track' } : { type: 'track', event: `e${i}` })) },
        '/events/3/event: required, expected string'
      ],
      ['a bad sent_at', batch(), { email: 'a@example.com', events: [{ type: 'track', event: 'x', sent_at: 'yesterday' }] }, '/events/0/sent_at: Invalid ISO datetime'],
      ['a wrong type', batch(), { email: 'a@example.com', identifies: [{ type: 'identify', traits: { vip: 'yes' } }] }, '/identifies/0/traits/vip: expected boolean, got string'],
      ['an account without account_id or domain', accounts(), { identifies: [] }, '/: needs account_id or domain'],
      ['an array body', batch(), [], '/: expected object, got array']
    ]
    for (const [what, path, body, pointer] of invalid) {
      it(`answers 400 invalid_payload naming the pointer for ${what}`, async () => {
        const answer = await post(sim, path, body)
        expect(answer.status).to.equal(400)
        expect(answer.body.code).to.equal('invalid_payload')
        expect(answer.body.error).to.contain(pointer)
        expect(sim.requests()).to.deep.equal([])
      })
    }

    it('answers 400 invalid_json to malformed JSON', async () => {
      const answer = await post(sim, batch(), '{"email": ')
      expect(answer.status).to.equal(400)
      expect(answer.body.code).to.equal('invalid_json')
      expect(answer.body.error).to.be.a('string')
    })

    it('answers 400 to a body that is not declared as JSON', async () => {
      const answer = await post(sim, batch(), JSON.stringify(PROFILE_BODY), { 'content-type': 'text/plain' })
      expect(answer.status).to.equal(400)
      expect(answer.body).to.deep.equal({ error: 'expected a JSON body (Content-Type: application/json)', code: 'invalid_payload' })
    })

    it('decodes the key in the path and records the path without its query', async () => {
      const keyed = await startSimulator({ keys: ['pk/a b'] })
      try {
        expect((await post(keyed, `${batch('pk%2Fa%20b')}?v=1`, PROFILE_BODY)).status).to.equal(200)
        expect((await post(keyed, batch('pk%2Fa'), PROFILE_BODY)).status).to.equal(401)
        expect(keyed.requests().map((r) => r.path)).to.deep.equal(['/web/projects/pk%2Fa%20b/batch'])
      } finally {
        await keyed.close()
      }
    })

    it('records each request\'s key, and GET /_sim/requests?key= lists only that key\'s requests', async () => {
      expect((await post(sim, batch('acme'), PROFILE_BODY)).status).to.equal(200)
      expect((await post(sim, batch('pk%2Fb'), PROFILE_BODY)).status).to.equal(200)
      expect((await post(sim, accounts('acme'), ACCOUNT_BODY)).status).to.equal(200)
      expect(sim.requests().map((r) => r.key)).to.deep.equal(['acme', 'pk/b', 'acme'])
      const acme = (await call(sim, 'GET', '/_sim/requests?key=acme')).body
      expect(acme.map((r: any) => r.path)).to.deep.equal(['/web/projects/acme/batch', '/web/projects/acme/accounts/batch'])
      expect((await call(sim, 'GET', '/_sim/requests?key=pk%2Fb')).body.map((r: any) => r.key)).to.deep.equal(['pk/b'])
      expect((await call(sim, 'GET', '/_sim/requests?key=nobody')).body).to.deep.equal([])
      expect(sim.requests('acme')).to.have.length(2)
    })

    it('reads bodies as express.json() did: an empty one as {}, a bare scalar as malformed, other charsets refused', async () => {
      expect(await post(sim, batch(), '')).to.deep.include({ status: 400 }).and.satisfy((a: Answer) => a.body.code === 'invalid_payload')
      expect((await post(sim, batch(), '"x"')).body.code).to.equal('invalid_json')
      expect((await post(sim, batch(), ' 12 ')).body.code).to.equal('invalid_json')
      expect((await post(sim, batch(), JSON.stringify(PROFILE_BODY), { 'content-type': 'application/json; charset=latin1' })).status).to.equal(415)
      expect((await post(sim, batch(), JSON.stringify(PROFILE_BODY), { 'content-type': 'application/json; charset="UTF-8"' })).status).to.equal(200)
      expect((await post(sim, batch(), JSON.stringify(PROFILE_BODY), { 'content-type': 'application/vnd.api+json' })).body.code).to.equal('invalid_payload')
    })

    it('answers 413 to a body over 10 MB, and records nothing', async () => {
      const answer = await post(sim, batch(), JSON.stringify({ ...PROFILE_BODY, padding: 'x'.repeat(10 * 1024 * 1024) }))
      expect(answer).to.deep.include({ status: 413, body: { error: 'body larger than 10mb', code: 'payload_too_large' } })
      expect(sim.requests()).to.deep.equal([])
    })

    it('answers 415 to a compressed body (Koala\'s clients send plain JSON)', async () => {
      const answer = await post(sim, batch(), JSON.stringify(PROFILE_BODY), { 'content-encoding': 'gzip' })
      expect(answer.status).to.equal(415)
      expect(answer.body.code).to.equal('invalid_body')
    })

    it('answers 404 JSON to anything else', async () => {
      expect(await call(sim, 'GET', '/nope')).to.deep.include({ status: 404, body: { error: 'no route for GET /nope', code: 'not_found' } })
      expect((await call(sim, 'GET', batch())).status).to.equal(404)
    })
  })

  describe('public key check', () => {
    let keyed: RunningSimulator
    before(async () => {
      keyed = await startSimulator({ keys: ['pk_live'] })
    })
    after(() => keyed.close())

    it('answers 401 to an unknown key and 200 to a known one', async () => {
      expect(await post(keyed, batch('pk_wrong'), PROFILE_BODY)).to.deep.include({
        status: 401,
        body: { error: 'invalid public api key', code: 'unauthorized' }
      })
      expect((await post(keyed, accounts('pk_wrong'), ACCOUNT_BODY)).status).to.equal(401)
      expect((await post(keyed, batch('pk_live'), PROFILE_BODY)).status).to.equal(200)
      expect(keyed.requests().map((r) => r.path)).to.deep.equal(['/web/projects/pk_live/batch'])
    })

    it('answers GET /auth like Koala: 2xx for a good key', async () => {
      expect((await call(keyed, 'GET', '/web/projects/pk_live/auth')).status).to.equal(200)
      expect((await call(keyed, 'GET', '/web/projects/pk_wrong/auth')).status).to.equal(401)
    })

    it('accepts every key when none is configured', async () => {
      expect((await post(sim, batch('anything'), PROFILE_BODY)).status).to.equal(200)
    })
  })

  describe('control routes', () => {
    it('DELETE /_sim/requests clears the requests and keeps the pending faults', async () => {
      await post(sim, batch(), PROFILE_BODY)
      sim.addFaults({ status: 500 })
      expect((await call(sim, 'DELETE', '/_sim/requests')).status).to.equal(200)
      expect((await call(sim, 'GET', '/_sim/requests')).body).to.deep.equal([])
      expect(sim.pendingFaults()).to.have.length(1)
    })

    it('lists pending faults with the uses left, and DELETE /_sim/faults clears them', async () => {
      expect((await post(sim, '/_sim/faults', { status: 503, times: 2, endpoint: 'batch' })).status).to.equal(201)
      await post(sim, batch(), PROFILE_BODY)
      expect((await call(sim, 'GET', '/_sim/faults')).body).to.deep.equal([{ status: 503, times: 1, endpoint: 'batch' }])
      await call(sim, 'DELETE', '/_sim/faults')
      expect((await call(sim, 'GET', '/_sim/faults')).body).to.deep.equal([])
      expect((await post(sim, batch(), PROFILE_BODY)).status).to.equal(200)
    })

    const badFaults: Array<[string, unknown, string]> = [
      ['nothing to do', { times: 2 }, 'needs at least one of status, latencyMs or drop'],
      ['a misspelt field', { status: 429, retry_after: 1 }, 'retry_after'],
      ['a non-error status', { status: 200 }, '/status:'],
      ['drop with a status', { drop: true, status: 503 }, 'exclude each other'],
      ['zero times', { status: 503, times: 0 }, '/times:'],
      ['an unknown endpoint', { status: 503, endpoint: 'auth' }, '/endpoint:'],
      ['a bad entry of an array', [{ status: 503 }, { latencyMs: -1 }], '/1/latencyMs:']
    ]
    for (const [what, body, message] of badFaults) {
      it(`answers 400 invalid_fault to a fault with ${what}`, async () => {
        const answer = await post(sim, '/_sim/faults', body)
        expect(answer.status).to.equal(400)
        expect(answer.body.code).to.equal('invalid_fault')
        expect(answer.body.error).to.contain(message)
        expect(sim.pendingFaults()).to.deep.equal([])
      })
    }

    it('throws on a bad fault given in code', () => {
      expect(() => sim.addFaults({ status: 99 })).to.throw(/invalid simulator fault: \/status/)
    })
  })

  describe('faults', () => {
    it('answers a status N times, then normally, recording only the accepted request', async () => {
      await post(sim, '/_sim/faults', { status: 503, times: 2 })
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await post(sim, batch(), PROFILE_BODY)).status)
      expect(statuses).to.deep.equal([503, 503, 200])
      expect(sim.requests()).to.have.length(1)
    })

    it('answers 429 with Retry-After', async () => {
      await post(sim, '/_sim/faults', { status: 429, retryAfter: 1, times: 1 })
      const answer = await post(sim, batch(), PROFILE_BODY)
      expect(answer.status).to.equal(429)
      expect(answer.headers.get('retry-after')).to.equal('1')
      expect(answer.body.code).to.equal('simulated_fault')
    })

    it('answers a fault before checking the key or the body, as a proxy in front of Koala would', async () => {
      sim.addFaults({ status: 502 })
      expect((await post(sim, batch(), '{not json')).status).to.equal(502)
    })

    it('answers with the fault body when one is given', async () => {
      sim.addFaults([{ status: 400, body: { error: 'Koala ingest suspended' } }, { status: 502, body: '<html>Bad Gateway</html>' }])
      expect((await post(sim, batch(), PROFILE_BODY)).body).to.deep.equal({ error: 'Koala ingest suspended' })
      const res = await fetch(sim.url + batch(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      expect(res.status).to.equal(502)
      expect(await res.text()).to.equal('<html>Bad Gateway</html>')
    })

    it('delays a latency fault, then accepts and records the request', async () => {
      sim.addFaults({ latencyMs: 200 })
      const started = Date.now()
      const answer = await post(sim, batch(), PROFILE_BODY)
      expect(Date.now() - started).to.be.at.least(190)
      expect(answer.status).to.equal(200)
      expect(sim.requests()).to.have.length(1)
    })

    it('records a delayed request whose client gave up, flagged, as Koala would still ingest it', async () => {
      // The client gives up once the simulator holds the request (it took the fault); the latency is
      // long enough for the hang-up to reach the simulator first, however loaded this machine.
      sim.addFaults({ latencyMs: 1_000 })
      const text = JSON.stringify(PROFILE_BODY)
      const request = httpRequest(sim.url + batch(), { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': UA, 'content-length': Buffer.byteLength(text) } })
      const gaveUp = new Promise((resolve) => request.on('error', resolve))
      // Headers and body in one write: the simulator reads the body in the same turn it takes the fault.
      request.end(text)
      await until(() => sim.pendingFaults().length === 0, { what: 'the request held at the simulator' })
      request.destroy()
      expect(await gaveUp).to.be.instanceOf(Error)
      await until(() => sim.requests().length === 1, { what: 'the delayed request recorded' })
      expect(sim.requests().map((r) => r.flags)).to.deep.equal([['client_disconnected']])
    })

    it('drops the connection: the client sees a socket error and nothing is recorded', async () => {
      await post(sim, '/_sim/faults', { drop: true })
      let error: unknown
      try {
        await post(sim, batch(), PROFILE_BODY)
      } catch (err) {
        error = err
      }
      expect(error).to.be.instanceOf(TypeError)
      expect(sim.requests()).to.deep.equal([])
      expect((await post(sim, batch(), PROFILE_BODY)).status).to.equal(200)
    })

    it('applies an endpoint-targeted fault to that endpoint only', async () => {
      sim.addFaults({ status: 500, endpoint: 'accounts/batch' })
      expect((await post(sim, batch(), PROFILE_BODY)).status).to.equal(200)
      expect((await post(sim, accounts(), ACCOUNT_BODY)).status).to.equal(500)
      expect((await post(sim, accounts(), ACCOUNT_BODY)).status).to.equal(200)
    })

    it('consumes faults in FIFO order', async () => {
      sim.addFaults([{ status: 500 }, { status: 502, times: 2 }, { status: 504 }])
      const statuses = []
      for (let i = 0; i < 5; i++) statuses.push((await post(sim, batch(), PROFILE_BODY)).status)
      expect(statuses).to.deep.equal([500, 502, 502, 504, 200])
    })

    it('takes faults given at start-up', async () => {
      const faulty = await startSimulator({ faults: [{ status: 503, times: 1 }] })
      try {
        expect((await post(faulty, batch(), PROFILE_BODY)).status).to.equal(503)
        expect((await post(faulty, batch(), PROFILE_BODY)).status).to.equal(200)
      } finally {
        await faulty.close()
      }
    })
  })

  describe('close()', () => {
    it('frees the port, even with a keep-alive connection and a pending latency fault', async () => {
      const short = await startSimulator({ faults: [{ latencyMs: 60_000, endpoint: 'accounts/batch' }] })
      await post(short, batch(), PROFILE_BODY) // leaves a keep-alive connection open
      const hanging = post(short, accounts(), ACCOUNT_BODY).catch((err: unknown) => err)
      await until(() => short.pendingFaults().length === 0, { what: 'the request held by the latency fault' })
      const started = Date.now()
      await short.close()
      await short.close()
      // Far below the fault's 60 s: close() cut the held request rather than waiting for it.
      expect(Date.now() - started).to.be.below(10_000)
      expect(await hanging).to.be.instanceOf(Error)

      const probe = createNetServer()
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject)
        probe.listen(short.port, '127.0.0.1', resolve)
      })
      await new Promise((resolve) => probe.close(resolve))
    })
  })
})
