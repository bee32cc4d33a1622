import { expect } from 'chai'
import { gzipSync } from 'node:zlib'
import { signBody } from '../../src/server/signature'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { ADMIN, ADMIN_TOKEN, defaultMapping, KOALA_KEY, post, SHARED_SECRET, startHarness, trackEvent, WEBHOOK_TOKEN, WRITE_KEY, type Harness } from './service-harness'

describe('hardening (issue 12)', function () {
  this.timeout(20_000)
  let sim: RunningSimulator
  let service: Harness
  const env = () => ({
    KOALA_PUBLIC_API_KEY: KOALA_KEY,
    KOALA_BASE_URL: sim.baseUrl,
    SEGMENT_SHARED_SECRET: SHARED_SECRET,
    SEGMENT_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    SEGMENT_WRITE_KEY: WRITE_KEY,
    ADMIN_TOKEN
  })
  const hook = () => `${service.url}/webhook/default`
  const gzipPost = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...headers }, body: gzipSync(body) })

  before(async () => {
    sim = await startSimulator({ port: 0 })
    service = await startHarness({ env: env(), overrides: { allowUnsignedWebhooks: false, maxBodyBytes: 1024 * 1024 } })
  })
  after(async () => {
    await service.stop()
    await sim.close()
  })
  beforeEach(() => sim.clear())

  describe('no work proportional to the body before authentication', () => {
    it('checks an object\'s signature before parsing it: a wrong signature on bad JSON is a 401, not a 400', async () => {
      for (const body of ['{"type":"track",', '{"a":' + '['.repeat(10_000)]) {
        const answer = await post(hook(), body, { 'x-signature': signBody(body, 'not-the-secret') })
        expect(answer.status, body.slice(0, 20)).to.equal(401)
      }
    })

    it('inflates and parses only the first event of a signed batch before its signature matches', async () => {
      const first = JSON.stringify(trackEvent(1))
      // The rest would be a 400 if parsed, and a 413 once inflated past 1 MB: a 401 proves neither happened.
      const body = Buffer.from(`[${first},${' '.repeat(8 * 1024 * 1024)}{"broken":`)
      const response = await gzipPost(hook(), body, { 'x-signature': signBody(first, 'not-the-secret') })
      expect(response.status).to.equal(401)
      expect((await response.json()).error).to.equal('X-Signature does not match the body')
    })

    it('refuses a signed object over one event\'s size before inflating or hashing it whole', async () => {
      const bomb = Buffer.from(JSON.stringify({ type: 'track', pad: ' '.repeat(8 * 1024 * 1024) }))
      const response = await gzipPost(hook(), bomb, { 'x-signature': signBody('{}', SHARED_SECRET) })
      expect(response.status).to.equal(413)
      expect((await response.json()).error).to.equal('a single event is over 32768 bytes')
      const plain = await post(hook(), JSON.stringify(trackEvent(5, { pad: 'x'.repeat(40 * 1024) })), { 'x-signature': signBody('{}', SHARED_SECRET) })
      expect(plain.status).to.equal(413)
    })

    it('reads the Tracking API write key from the header before the body, and from the body without parsing it', async () => {
      const bomb = Buffer.from(`{"batch":[${' '.repeat(8 * 1024 * 1024)}]}`)
      const basic = `Basic ${Buffer.from('wrong-key:').toString('base64')}`
      expect((await gzipPost(`${service.url}/v1/batch`, bomb, { authorization: basic })).status).to.equal(401)
      const unparsable = '{"writeKey":"wrong-key","batch":[{"type":"track",'
      expect((await post(`${service.url}/v1/batch`, unparsable)).status).to.equal(401)
      const good = await post(`${service.url}/v1/batch`, { batch: [trackEvent(2)], writeKey: WRITE_KEY })
      expect(good.status).to.equal(200)
      expect(sim.requests()).to.have.length(1)
    })
  })

  describe('what a security read found', () => {
    it('inflates a Tracking API body without a header write key no further than Segment\'s batch limit, and finds the key among a million keys', async () => {
      const flood = Buffer.from(`{${'"writeKez":0,'.repeat(100_000)}"z":0}`)
      const bomb = await gzipPost(`${service.url}/v1/batch`, flood)
      expect(bomb.status).to.equal(413)
      expect((await bomb.json()).error).to.contain('needs its write key in the Authorization header')
      const keys = `{${'"writeKez":0,'.repeat(30_000)}"writeKey":${JSON.stringify(WRITE_KEY)},"batch":[${JSON.stringify(trackEvent(3))}]}`
      const good = await post(`${service.url}/v1/batch`, keys)
      expect(good.status).to.equal(200)
      const escaped = await post(`${service.url}/v1/batch`, `{"write\\u004bey":${JSON.stringify(WRITE_KEY)},"batch":[${JSON.stringify(trackEvent(4))}]}`)
      expect(escaped.status).to.equal(200)
    })

    it('refuses brotli (never sent by Segment; its decoder works before it yields a byte) with 415', async () => {
      const response = await fetch(hook(), { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'br', 'x-signature': 'a'.repeat(40) }, body: '{}' })
      expect(response.status).to.equal(415)
    })
  })

  describe('a captured signature cannot carry a forged batch', () => {
    const captured = trackEvent(10)
    const signature = signBody(JSON.stringify(captured), SHARED_SECRET)
    const forged = [captured, ...Array.from({ length: 20 }, (_, i) => trackEvent(100 + i, { context: { traits: { email: 'mallory@example.com' } } }))]

    it('refuses a batch authenticated by X-Signature alone, saying how to configure a token, and sends nothing', async () => {
      const answer = await post(hook(), forged, { 'x-signature': signature })
      expect(answer.status).to.equal(401)
      expect(answer.body.code).to.equal('UNAUTHORIZED')
      expect(answer.body.error).to.contain('"auth": {"tokens"').and.contain('Authorization: Bearer <token>').and.contain('Headers field').and.contain('trustSignedFirstEvent')
      expect(sim.requests()).to.have.length(0)
    })

    it('takes a batch of one signed event, and a resent capture changes nothing in Koala (same message_ids)', async () => {
      for (let i = 0; i < 2; i++) expect((await post(hook(), [captured], { 'x-signature': signature })).status).to.equal(200)
      const ids = sim.requests().map((r) => (r.body as any).events.map((e: any) => e.message_id))
      expect(ids).to.deep.equal([['msg-10'], ['msg-10']])
    })

    it('takes a whole batch with either of two bearer tokens, refuses a wrong one before the body, compared per token', async () => {
      const acme = defaultMapping()
      acme.auth = { tokens: [{ env: 'ACME_TOKEN_OLD' }, { env: 'ACME_TOKEN_NEW' }] }
      const rotating = await startHarness({ env: { ...env(), ACME_TOKEN_OLD: 'old-token', ACME_TOKEN_NEW: 'new-token' }, files: { 'acme.json': acme }, overrides: { allowUnsignedWebhooks: false } })
      try {
        for (const token of ['old-token', 'new-token']) {
          expect((await post(`${rotating.url}/webhook/acme`, forged, { authorization: `Bearer ${token}` })).status).to.equal(200)
        }
        const wrong = await gzipPost(`${rotating.url}/webhook/acme`, Buffer.from(JSON.stringify({ pad: ' '.repeat(4 * 1024 * 1024) })), { authorization: 'Bearer old-tokem' })
        expect(wrong.status).to.equal(401)
        // Without any credentials (and with no shared secret) the door is closed.
        expect((await post(`${rotating.url}/webhook/acme`, captured)).status).to.equal(401)
      } finally {
        await rotating.stop()
      }
    })

    it('takes a signed batch when the workspace opts in with auth.trustSignedFirstEvent, and says so at start-up', async () => {
      const acme = defaultMapping()
      acme.auth = { sharedSecret: { env: 'SEGMENT_SHARED_SECRET' }, trustSignedFirstEvent: true }
      const trusting = await startHarness({ env: env(), files: { 'acme.json': acme }, overrides: { allowUnsignedWebhooks: false } })
      try {
        expect(trusting.said.join('\n')).to.contain('workspace acme: auth.trustSignedFirstEvent is set')
        expect((await post(`${trusting.url}/webhook/acme`, forged, { 'x-signature': signature })).status).to.equal(200)
      } finally {
        await trusting.stop()
      }
    })

    it('keeps unsigned local mode taking batches (nothing there is authenticated)', async () => {
      const local = await startHarness({ env: {}, overrides: { allowUnsignedWebhooks: false } })
      try {
        expect((await post(`${local.url}/webhook/default`, forged)).status).to.equal(200)
      } finally {
        await local.stop()
      }
    })
  })

  describe('no secret in output', () => {
    it('masks a password in KOALA_BASE_URL in the start-up lines', async () => {
      const withPassword = await startHarness({ env: { ...env(), KOALA_BASE_URL: 'https://proxy-user:hunter2-pass@koala.example.com/web/projects' } })
      try {
        const said = withPassword.said.join('\n')
        expect(said).to.contain('Koala: https://***:***@koala.example.com/web/projects')
        expect(said + withPassword.logs.text).not.to.contain('hunter2-pass').and.not.to.contain('proxy-user')
      } finally {
        await withPassword.stop()
      }
    })

    it('logs refused requests by door, never by their raw path', async () => {
      const secretPath = 'wk_live_SECRET123'
      await post(`${service.url}/webhook/${secretPath}`, trackEvent(3))
      await post(`${service.url}/v1/${secretPath}`, trackEvent(3))
      await post(`${service.url}/${secretPath}`, trackEvent(3))
      const refused = service.logs.lines.filter((line) => line.includes('"refused"'))
      expect(refused.length).to.be.at.least(3)
      expect(service.logs.text).not.to.contain('SECRET123')
      expect(refused.map((line) => JSON.parse(line).door)).to.include.members(['webhook', 'tracking', 'none'])
    })
  })

  describe('workspace names are for the operator', () => {
    it('shows /readyz\'s workspaces and /metrics only with ADMIN_TOKEN', async () => {
      expect(await (await fetch(`${service.url}/readyz`)).json()).to.deep.equal({ ready: true })
      const admin = ADMIN
      expect(await (await fetch(`${service.url}/readyz`, { headers: admin })).json()).to.deep.equal({ ready: true, workspaces: ['default'], problems: [] })
      const anonymous = await fetch(`${service.url}/metrics`)
      expect(anonymous.status).to.equal(401)
      expect(await anonymous.text()).not.to.contain('workspace=')
      expect((await fetch(`${service.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(401)
      const metrics = await fetch(`${service.url}/metrics`, { headers: admin })
      expect(metrics.status).to.equal(200)
      expect(await metrics.text()).to.contain('koala_adapter_http_request_duration_seconds')
    })
  })

  describe('bodies', () => {
    it('refuses charset=utf-16 and application/json-seq with 415', async () => {
      const body = JSON.stringify(trackEvent(4))
      const headers = { authorization: `Bearer ${WEBHOOK_TOKEN}` }
      for (const type of ['application/json; charset=utf-16', 'application/json-seq', 'application/json;charset="UTF-16LE"']) {
        const answer = await post(hook(), body, { ...headers, 'content-type': type })
        expect(answer.status, type).to.equal(415)
      }
      expect((await post(hook(), body, { ...headers, 'content-type': 'application/json; charset=UTF-8' })).status).to.equal(200)
    })

    it('never echoes the sender\'s body in a 400', async () => {
      const headers = { authorization: `Bearer ${WEBHOOK_TOKEN}` }
      for (const body of ['{"email":"ada@example.com" "x"}', 'ada@example.com', '{"email":"ada@example.com",']) {
        const answer = await post(hook(), body, headers)
        expect(answer.status, body).to.equal(400)
        expect(JSON.stringify(answer.body), body).not.to.contain('ada@')
        expect(answer.body.error).to.match(/^the body is not valid JSON: /)
      }
    })
  })
})
