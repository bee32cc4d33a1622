import { expect } from 'chai'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { signBody } from '../../src/server/signature'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { ADMIN, ADMIN_TOKEN, defaultMapping, KOALA_KEY, WEBHOOK_TOKEN, post, SHARED_SECRET, startHarness, trackEvent, WRITE_KEY } from './service-harness'

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('operations', function () {
  this.timeout(20_000)
  let sim: RunningSimulator
  before(async () => {
    sim = await startSimulator({ port: 0 })
  })
  after(() => sim.close())

  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, ADMIN_TOKEN } })
    try {
      expect(await (await fetch(`${service.url}/healthz`)).json()).to.deep.equal({ ok: true })
      expect(await (await fetch(`${service.url}/readyz`, { headers: ADMIN })).json()).to.deep.equal({ ready: true, workspaces: ['default'] })
      await post(`${service.url}/webhook/default`, [trackEvent(1), trackEvent(2, { context: {} })])
      const metrics = await (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
      expect(metrics).to.match(/koala_adapter_events_dropped_total\{workspace="default",reason="no_identity"\} 1/)
      expect(metrics).to.match(/koala_adapter_koala_requests_total\{endpoint="batch",status="200"\} 1/)
      expect(metrics).to.contain('koala_adapter_http_request_duration_seconds_bucket')
    } finally {
      await service.stop()
    }
  })

  it('picks up a mapping edit without a restart, and keeps the last good mapping when an edit is bad', async () => {
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl }, watch: true })
    try {
      const file = path.join(service.mappingsDir, 'default.json')
      const edited = defaultMapping()
      edited.subscriptions[0].mapping.event = { '@template': 'Renamed {{event}}' }
      let version = service.registry.version
      writeFileSync(file, JSON.stringify(edited))
      await until(() => service.registry.version > version)
      sim.clear()
      await post(`${service.url}/webhook/default`, trackEvent(1))
      expect((sim.requests()[0].body as any).events[0].event).to.equal('Renamed Event 1')

      version = service.registry.version
      edited.subscriptions[0].mapping.event = { '@paht': '$.event' }
      writeFileSync(file, JSON.stringify(edited))
      await until(() => service.registry.version > version)
      expect(service.logs.text).to.contain('mapping reload failed')
      expect(service.logs.text).to.contain('/subscriptions/0/mapping/event')
      sim.clear()
      await post(`${service.url}/webhook/default`, trackEvent(2))
      expect((sim.requests()[0].body as any).events[0].event).to.equal('Renamed Event 2')
    } finally {
      await service.stop()
    }
  })

  it('sends a workspace with its own koala.baseUrl there, and the rest to KOALA_BASE_URL, with the key URL-encoded', async () => {
    const other = await startSimulator({ port: 0 })
    const acme = defaultMapping()
    acme.koala = { publicApiKey: { env: 'ACME_KOALA_KEY' }, baseUrl: other.baseUrl }
    const service = await startHarness({
      env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, ACME_KOALA_KEY: 'acme key/1' },
      files: { 'acme.json': acme }
    })
    try {
      sim.clear()
      expect((await post(`${service.url}/webhook/acme`, trackEvent(1))).status).to.equal(200)
      expect((await post(`${service.url}/webhook/default`, trackEvent(2))).status).to.equal(200)
      expect(other.requests().map((r) => r.path)).to.deep.equal(['/web/projects/acme%20key%2F1/batch'])
      expect(sim.requests().map((r) => r.path)).to.deep.equal([`/web/projects/${KOALA_KEY}/batch`])
    } finally {
      await service.stop()
      await other.close()
    }
  })

  it('fails the start naming the variable when a workspace\'s Koala key is not set', async () => {
    const acme = defaultMapping()
    acme.koala.publicApiKey = { env: 'ACME_KOALA_KEY' }
    let failure: Error | undefined
    try {
      const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY }, files: { 'acme.json': acme } })
      await service.stop()
    } catch (error) {
      failure = error as Error
    }
    expect(failure?.message).to.match(/acme\.json: \/koala\/publicApiKey: environment variable ACME_KOALA_KEY is not set/)
  })

  it('never logs a Koala key, a write key, a shared secret or an email', async () => {
    const env = { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, SEGMENT_WRITE_KEY: WRITE_KEY, SEGMENT_SHARED_SECRET: SHARED_SECRET, SEGMENT_WEBHOOK_TOKEN: WEBHOOK_TOKEN }
    const service = await startHarness({ env, overrides: { logLevel: 'trace' } })
    try {
      const body = JSON.stringify([trackEvent(1), trackEvent(2, { context: {} })])
      expect((await post(`${service.url}/webhook/default`, body, { authorization: `Bearer ${WEBHOOK_TOKEN}` })).status).to.equal(200)
      await post(`${service.url}/webhook/default`, body, { 'x-signature': 'bad' })
      await post(`${service.url}/webhook/default`, body, { 'x-signature': signBody(JSON.stringify(JSON.parse(body)[0]), SHARED_SECRET) })
      await post(`${service.url}/v1/batch`, { batch: [trackEvent(3)], writeKey: WRITE_KEY })
      await post(`${service.url}/v1/batch`, { batch: [trackEvent(3)], writeKey: 'wrong-key' })
      await sim.close().then(async () => {
        await post(`${service.url}/webhook/default`, body, { authorization: `Bearer ${WEBHOOK_TOKEN}` })
        sim = await startSimulator({ port: 0 })
      })
      const everything = service.logs.text + '\n' + service.said.join('\n')
      expect(service.logs.lines.length).to.be.above(3)
      for (const secret of [KOALA_KEY, WRITE_KEY, SHARED_SECRET, WEBHOOK_TOKEN, 'ada@example.com', 'Ada@Example.com']) {
        expect(everything).not.to.contain(secret)
      }
    } finally {
      await service.stop()
    }
  })
})
