import { expect } from 'chai'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { signBody } from '../../src/server/signature'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { version } from '../../package.json'
import { ADMIN, ADMIN_TOKEN, defaultMapping, KOALA_KEY, WEBHOOK_TOKEN, post, SHARED_SECRET, startHarness, trackEvent, WRITE_KEY } from './service-harness'
import { until } from '../support/until'

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
      expect(await (await fetch(`${service.url}/readyz`, { headers: ADMIN })).json()).to.deep.equal({ ready: true, workspaces: ['default'], problems: [] })
      expect(await (await fetch(`${service.url}/readyz`)).json()).to.deep.equal({ ready: true })
      await post(`${service.url}/webhook/default`, [trackEvent(1), trackEvent(2, { context: {} })])
      const metrics = await (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
      expect(metrics).to.match(/koala_adapter_events_dropped_total\{workspace="default",reason="no_identity"\} 1/)
      expect(metrics).to.match(/koala_adapter_koala_requests_total\{endpoint="batch",status="200"\} 1/)
      expect(metrics).to.contain('koala_adapter_http_request_duration_seconds_bucket')
    } finally {
      await service.stop()
    }
  })

  it('shows the build (version, Node) and the Koala requests in flight in /metrics', async () => {
    // A Koala that holds every answer until told, so a scrape sees the request in flight.
    const held: http.ServerResponse[] = []
    const koala = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => held.push(res))
    })
    await new Promise<void>((resolve) => koala.listen(0, '127.0.0.1', resolve))
    const koalaUrl = `http://127.0.0.1:${(koala.address() as AddressInfo).port}/web/projects`
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: koalaUrl, ADMIN_TOKEN } })
    const scrape = async () => (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
    try {
      const before = await scrape()
      expect(before).to.contain(`koala_adapter_build_info{version="${version}",node="${process.version}"} 1`)
      const answer = post(`${service.url}/webhook/default`, trackEvent(1))
      await until(() => held.length === 1, { what: 'one request held at Koala' })
      expect(await scrape()).to.match(/koala_adapter_koala_requests_in_flight\{endpoint="batch"\} 1\n/)
      held[0].writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      expect((await answer).status).to.equal(200)
      expect(await scrape()).to.match(/koala_adapter_koala_requests_in_flight\{endpoint="batch"\} 0\n/)
    } finally {
      await service.stop()
      koala.closeAllConnections()
      await new Promise((resolve) => koala.close(resolve))
    }
  })

  it('names the port really bound in the banner, and says in the JSON log which doors are signed, unsigned or closed', async () => {
    const service = await startHarness({
      env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, SEGMENT_WRITE_KEY: WRITE_KEY },
      overrides: { port: 0, allowUnsignedWebhooks: false }
    })
    try {
      expect(service.port).to.be.above(0)
      expect(service.said[0]).to.equal(`segment-koala-adapter listening on http://127.0.0.1:${service.port}`)
      const listening = service.logs.text.split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((line) => line.msg === 'listening')
      expect(listening).to.deep.include({ port: service.port, host: '127.0.0.1' })
      expect(listening.doors).to.deep.equal([{ workspace: 'default', webhook: 'closed', trackingApi: 'write key' }])
      expect(listening.notices.join('\n')).to.contain('/webhook/default is closed (401)')
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
      await until(() => service.registry.version > version, { what: 'the mapping reloaded' })
      sim.clear()
      await post(`${service.url}/webhook/default`, trackEvent(1))
      expect((sim.requests()[0].body as any).events[0].event).to.equal('Renamed Event 1')

      version = service.registry.version
      edited.subscriptions[0].mapping.event = { '@paht': '$.event' }
      writeFileSync(file, JSON.stringify(edited))
      await until(() => service.registry.version > version, { what: 'the mapping reloaded' })
      expect(service.logs.text).to.contain('mapping reload failed')
      expect(service.logs.text).to.contain('/subscriptions/0/mapping/event')
      sim.clear()
      await post(`${service.url}/webhook/default`, trackEvent(2))
      expect((sim.requests()[0].body as any).events[0].event).to.equal('Renamed Event 2')
    } finally {
      await service.stop()
    }
  })

  it('keeps serving a workspace whose file is deleted (a delete-then-write replacement), shown stale until the file is back', async () => {
    const acme = defaultMapping()
    acme.koala = { publicApiKey: { env: 'KOALA_PUBLIC_API_KEY' } }
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl, ADMIN_TOKEN }, watch: true, files: { 'acme.json': acme } })
    try {
      // default.json carries an edit, so falling back to the built-in mapping would show.
      const file = path.join(service.mappingsDir, 'default.json')
      const edited = defaultMapping()
      edited.subscriptions[0].mapping.event = { '@template': 'Edited {{event}}' }
      let version = service.registry.version
      writeFileSync(file, JSON.stringify(edited))
      await until(() => service.registry.version > version, { what: 'the mapping reloaded' })

      version = service.registry.version
      rmSync(file)
      rmSync(path.join(service.mappingsDir, 'acme.json'))
      await until(() => service.registry.version > version, { what: 'the mapping reloaded' })
      sim.clear()
      expect((await post(`${service.url}/webhook/acme`, trackEvent(1))).status).to.equal(200)
      expect((await post(`${service.url}/webhook/default`, trackEvent(2))).status).to.equal(200)
      expect((sim.requests()[1].body as any).events[0].event).to.equal('Edited Event 2')
      const ready = (await (await fetch(`${service.url}/readyz`, { headers: ADMIN })).json()) as any
      expect(ready.problems.map((p: any) => [p.workspace, p.mapping.reason])).to.deep.equal([['acme', 'file missing'], ['default', 'file missing']])
      expect(service.logs.text).to.contain('its last good version keeps serving')

      version = service.registry.version
      writeFileSync(file + '.tmp', JSON.stringify(defaultMapping()))
      renameSync(file + '.tmp', file)
      await until(() => service.registry.version > version, { what: 'the mapping reloaded' })
      const after = (await (await fetch(`${service.url}/readyz`, { headers: ADMIN })).json()) as any
      expect(after.problems.map((p: any) => p.workspace)).to.deep.equal(['acme'])
    } finally {
      await service.stop()
    }
  })

  it('serves the built-in default only when the folder never had a default.json, and says so at start', async () => {
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl }, files: {} })
    await service.stop()
    expect(service.said.join('\n')).not.to.contain('built-in mapping')
    const bare = await startOnEmptyFolder(sim.baseUrl)
    try {
      expect(bare.said.join('\n')).to.contain('has no default.json, so the built-in mapping serves it')
      expect((await post(`${bare.url}/webhook/default`, trackEvent(1))).status).to.equal(200)
    } finally {
      await bare.stop()
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

/** The service on a mapping folder without a single file. */
async function startOnEmptyFolder(koalaBaseUrl: string) {
  const { startService } = await import('../../src/server/start-service')
  const { tempDir } = await import('../support/temp-dir')
  const { BUILTIN_DEFAULT } = await import('./service-harness')
  const dir = tempDir('mappings-')
  const said: string[] = []
  const service = await startService({
    mappingsDir: dir,
    builtinDefaultFile: BUILTIN_DEFAULT,
    env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: koalaBaseUrl },
    overrides: { port: 0, host: '127.0.0.1', logLevel: 'silent', allowUnsignedWebhooks: true },
    say: (line) => said.push(line),
    watch: false
  })
  return Object.assign(service, { said })
}
