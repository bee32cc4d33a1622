import { expect } from 'chai'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { signBody } from '../../src/server/signature'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { defaultMapping, KOALA_KEY, post, SHARED_SECRET, startHarness, trackEvent, WEBHOOK_TOKEN, type Harness } from './service-harness'

describe('webhook door', function () {
  let sim: RunningSimulator
  let service: Harness
  const env = () => ({ KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, SEGMENT_SHARED_SECRET: SHARED_SECRET, SEGMENT_WEBHOOK_TOKEN: WEBHOOK_TOKEN })
  const NO_CREDENTIALS = 'not authenticated: send X-Signature (HMAC-SHA1 of the body with the shared secret) or Authorization: Bearer <token>, to an existing workspace'

  before(async () => {
    sim = await startSimulator({ port: 0 })
    service = await startHarness({ env: env() })
  })
  after(async () => {
    await service.stop()
    await sim.close()
  })
  beforeEach(() => sim.clear())

  it('delivers a classic webhook signed with HMAC-SHA1 over the raw body', async () => {
    const body = JSON.stringify(trackEvent(1))
    const answer = await post(`${service.url}/webhook/default`, body, { 'x-signature': signBody(body, SHARED_SECRET) })
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200)
    expect(answer.body).to.deep.include({ received: 1, delivered: 1, dropped: 0, requests: 1 })
    const [request] = sim.requests()
    expect(request.path).to.equal(`/web/projects/${KOALA_KEY}/batch`)
    expect(request.headers['user-agent']).to.match(/^segment-koala-adapter\/\d/)
    expect(request.body).to.deep.include({ email: 'ada@example.com' })
    expect((request.body as any).events[0]).to.deep.include({ event: 'Event 1', message_id: 'msg-1' })
  })

  it('delivers an Actions batch authenticated by a bearer token, grouped per person', async () => {
    const events = Array.from({ length: 65 }, (_, i) => trackEvent(i))
    events.push(trackEvent(99, { context: { traits: { email: 'bob@example.com' } } }))
    const answer = await post(`${service.url}/webhook/default`, events, { authorization: `Bearer ${WEBHOOK_TOKEN}` })
    expect(answer.status).to.equal(200)
    expect(answer.body).to.deep.include({ received: 66, delivered: 66, requests: 4 })
    const sizes = sim.requests().map((r) => [(r.body as any).email, (r.body as any).events.length])
    expect(sizes).to.have.deep.members([['ada@example.com', 30], ['ada@example.com', 30], ['ada@example.com', 5], ['bob@example.com', 1]])
  })

  it('refuses an unsigned request, an unknown workspace and an unknown call before reading the body', async () => {
    // 50 MB once inflated: reading it would end in 413, so a 401 or 404 proves the body was never inflated.
    const bomb = gzipSync(Buffer.from(JSON.stringify({ type: 'track', event: 'x', pad: ' '.repeat(50 * 1024 * 1024) })))
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' }
    const answerTo = async (url: string) => {
      const response = await fetch(url, { method: 'POST', headers, body: bomb })
      return { status: response.status, body: await response.json() }
    }
    expect(await answerTo(`${service.url}/webhook/default`)).to.deep.include({ status: 401, body: { error: NO_CREDENTIALS, code: 'UNAUTHORIZED' } })
    expect(await answerTo(`${service.url}/webhook/nobody`)).to.deep.include({ status: 401, body: { error: NO_CREDENTIALS, code: 'UNAUTHORIZED' } })
    expect((await answerTo(`${service.url}/v1/teleport`)).status).to.equal(404)
    expect(sim.requests()).to.have.length(0)
  })

  it('answers 401 for a missing or wrong signature and forwards nothing', async () => {
    const body = JSON.stringify(trackEvent(2))
    const missing = await post(`${service.url}/webhook/default`, body)
    expect(missing.status).to.equal(401)
    expect(missing.body.error).to.equal(NO_CREDENTIALS)
    const wrong = await post(`${service.url}/webhook/default`, body, { 'x-signature': signBody(body, 'other-secret') })
    expect(wrong.status).to.equal(401)
    expect(wrong.body.error).to.equal('X-Signature does not match the body')
    const tampered = await post(`${service.url}/webhook/default`, body.replace('Event 2', 'Event 3'), { 'x-signature': signBody(body, SHARED_SECRET) })
    expect(tampered.status).to.equal(401)
    expect(sim.requests()).to.have.length(0)
  })

  it('accepts either of two secrets during a rotation', async () => {
    const acme = defaultMapping()
    acme.auth.sharedSecret = [{ env: 'SEGMENT_SHARED_SECRET' }, { env: 'ACME_SECRET_NEXT' }]
    const rotating = await startHarness({ env: { ...env(), SEGMENT_SHARED_SECRET: 'old', ACME_SECRET_NEXT: 'new' }, files: { 'acme.json': acme } })
    try {
      const body = JSON.stringify(trackEvent(3))
      for (const secret of ['old', 'new']) {
        expect((await post(`${rotating.url}/webhook/acme`, body, { 'x-signature': signBody(body, secret) })).status).to.equal(200)
      }
      expect((await post(`${rotating.url}/webhook/acme`, body, { 'x-signature': signBody(body, 'neither') })).status).to.equal(401)
    } finally {
      await rotating.stop()
    }
  })

  it('answers 200 with the reasons for events dropped on purpose, sending nothing for them', async () => {
    const events = [
      trackEvent(4, { context: { library: { name: 'analytics.js' }, traits: { email: 'a@b.co' } } }),
      trackEvent(5, { context: {} }),
      { type: 'alias', previousId: 'p', messageId: 'al' }
    ]
    const answer = await post(`${service.url}/webhook/default`, events, { authorization: `Bearer ${WEBHOOK_TOKEN}` })
    expect(answer.status).to.equal(200)
    expect(answer.body).to.deep.include({ delivered: 0, dropped: 3, reasons: { analytics_js: 1, no_identity: 1, no_subscription: 1 } })
    expect(answer.body.drops.map((d: any) => [d.index, d.messageId, d.reason])).to.deep.equal([
      [0, 'msg-4', 'analytics_js'],
      [1, 'msg-5', 'no_identity'],
      [2, 'al', 'no_subscription']
    ])
    expect(sim.requests()).to.have.length(0)
  })

  it('closes the webhook door of a workspace without a shared secret outside local mode, and says so', async () => {
    const closed = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl }, overrides: { allowUnsignedWebhooks: false } })
    try {
      expect(closed.said.join('\n')).to.contain('/webhook/default is closed (401) until a secret is set, or ALLOW_UNSIGNED_WEBHOOKS=true')
      const answer = await post(`${closed.url}/webhook/default`, trackEvent(7))
      expect(answer.status).to.equal(401)
      expect(answer.body.code).to.equal('UNAUTHORIZED')
      expect(sim.requests()).to.have.length(0)
    } finally {
      await closed.stop()
    }
  })

  it('warns when a reload changes a workspace\'s doors, and keeps a new unsigned workspace closed', async () => {
    const reloading = await startHarness({ env: env(), overrides: { allowUnsignedWebhooks: false } })
    try {
      const acme = defaultMapping()
      delete acme.auth
      writeFileSync(path.join(reloading.mappingsDir, 'acme.json'), JSON.stringify(acme))
      reloading.registry.reload()
      expect(reloading.logs.text).to.contain('workspace acme: no webhook shared secret: /webhook/acme is closed (401)')
      expect((await post(`${reloading.url}/webhook/acme`, trackEvent(8))).status).to.equal(401)
    } finally {
      await reloading.stop()
    }
  })

  it('answers an unknown workspace as a known one without the right credentials, so names cannot be found by trying', async () => {
    const body = JSON.stringify(trackEvent(6))
    const tries: Array<Record<string, string>> = [{}, { authorization: 'Bearer guess' }, { 'x-signature': signBody(body, 'guess') }]
    for (const headers of tries) {
      const known = await post(`${service.url}/webhook/default`, body, headers)
      const unknown = await post(`${service.url}/webhook/nope`, body, headers)
      expect(known.status, JSON.stringify(headers)).to.equal(401)
      expect(unknown).to.deep.include({ status: known.status, body: known.body })
    }
  })
})
