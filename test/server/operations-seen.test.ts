import { expect } from 'chai'
import { createServer } from 'node:net'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { loadConfig } from '../../src/config'
import { maskEmails } from '../../src/json/mask-emails'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { ADMIN, ADMIN_TOKEN, defaultMapping, KOALA_KEY, post, startHarness, trackEvent } from './service-harness'
import { until } from '../support/until'

const linesOf = (text: string): any[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line))

/** A port nothing listens on right now (taken and given back). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('operations you can see', function () {
  this.timeout(20_000)
  let sim: RunningSimulator
  before(async () => {
    sim = await startSimulator({ port: 0 })
  })
  after(() => sim.close())
  beforeEach(() => sim.reset())
  const env = { KOALA_PUBLIC_API_KEY: KOALA_KEY }

  describe('dropped events and request ids', () => {
    it('logs every dropped event (workspace, door, messageId, reason, detail) with no email in the log or the answer', async () => {
      const service = await startHarness({ env: { ...env, KOALA_BASE_URL: sim.baseUrl } })
      try {
        const events = [
          trackEvent(1),
          trackEvent(2, { context: { traits: { email: 'ada@example' } } }),
          { ...trackEvent(3), type: 'grace@example.com' },
          trackEvent(4, { context: { library: { name: 'analytics.js' }, traits: { email: 'ada@example.com' } } })
        ]
        const answer = await post(`${service.url}/webhook/default`, events)
        expect(answer.status).to.equal(200)
        expect(answer.body.delivered).to.equal(1)
        const reqId = answer.headers.get('x-request-id')!
        expect(reqId).to.match(/^[0-9a-f-]{36}$/)

        const lines = linesOf(service.logs.text)
        const dropped = lines.filter((line) => line.msg === 'event dropped')
        expect(dropped.map((line) => [line.workspace, line.door, line.messageId, line.reason])).to.deep.equal([
          ['default', 'webhook', 'msg-2', 'no_identity'],
          ['default', 'webhook', 'msg-3', 'unsupported_type'],
          ['default', 'webhook', 'msg-4', 'analytics_js']
        ])
        expect(dropped[0].detail).to.contain('$.context.traits.email is not an email address')
        expect(dropped[1].detail).to.equal('/type: "[email]" is not a Spec call (track, identify, page, screen, group, alias)')
        const requestLines = lines.filter((line) => line.reqId !== undefined)
        expect(requestLines.map((line) => line.msg)).to.deep.equal(['event dropped', 'event dropped', 'event dropped', 'delivered'])
        expect(requestLines.every((line) => line.reqId === reqId)).to.equal(true)
        expect(service.logs.text).not.to.match(/ada@|grace@/)
        expect(JSON.stringify(answer.body)).not.to.match(/ada@|grace@/)
      } finally {
        await service.stop()
      }
    })

    it('does not say "delivered" of a request that delivered nothing', async () => {
      const service = await startHarness({ env: { ...env, KOALA_BASE_URL: sim.baseUrl } })
      try {
        const answer = await post(`${service.url}/webhook/default`, [trackEvent(1, { context: {} })])
        expect(answer.status).to.equal(200)
        expect(answer.body.delivered).to.equal(0)
        const summary = linesOf(service.logs.text).filter((line) => line.reqId !== undefined && line.msg !== 'event dropped')
        expect(summary.map((line) => line.msg)).to.deep.equal(['nothing delivered: every event dropped'])
        expect(sim.requests()).to.deep.equal([])
      } finally {
        await service.stop()
      }
    })

    it('keeps a safe incoming X-Request-Id, replaces an unsafe one, and tags refusals with it', async () => {
      const service = await startHarness({ env: { ...env, KOALA_BASE_URL: sim.baseUrl }, overrides: { allowUnsignedWebhooks: false } })
      try {
        const kept = await post(`${service.url}/webhook/default`, trackEvent(1), { 'x-request-id': 'lb-7f3a.42:1' })
        expect(kept.status).to.equal(401)
        expect(kept.headers.get('x-request-id')).to.equal('lb-7f3a.42:1')
        const refused = linesOf(service.logs.text).find((line) => line.msg === 'refused')
        expect(refused.reqId).to.equal('lb-7f3a.42:1')
        for (const unsafe of ['ada@example.com', 'x'.repeat(65), 'a b']) {
          const answer = await post(`${service.url}/webhook/default`, trackEvent(1), { 'x-request-id': unsafe })
          expect(answer.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/)
        }
        expect(service.logs.text).not.to.contain('ada@')
      } finally {
        await service.stop()
      }
    })

    it('masks emails but not mapping-kit pointers', () => {
      expect(maskEmails('/subscriptions/0/mapping/event/@path: expected string')).to.equal('/subscriptions/0/mapping/event/@path: expected string')
      expect(maskEmails(`Unexpected token 'a', "ada@example.com" is not valid JSON`)).to.equal(`Unexpected token 'a', "[email]" is not valid JSON`)
      expect(maskEmails('/properties/josé@exämple.de/x: bad')).to.equal('/properties/[email]/x: bad')
    })
  })

  describe('a mapping edit that fails to load', () => {
    it('shows the workspace stale in /readyz (with the error and since when) and in /metrics, until a good edit', async () => {
      let now = Date.parse('2026-11-02T10:00:00Z')
      const service = await startHarness({ env: { ...env, KOALA_BASE_URL: sim.baseUrl, ADMIN_TOKEN }, watch: true, now: () => now })
      const metrics = async () => (await fetch(`${service.url}/metrics`, { headers: ADMIN })).text()
      const readyz = async () => (await (await fetch(`${service.url}/readyz`, { headers: ADMIN })).json()) as any
      try {
        expect(await metrics()).to.match(/koala_adapter_mapping_stale\{workspace="default"\} 0/)
        const file = path.join(service.mappingsDir, 'default.json')
        const edited = defaultMapping()
        edited.subscriptions[0].mapping.event = { '@paht': '$.event' }
        let version = service.registry.version
        writeFileSync(file, JSON.stringify(edited))
        await until(() => service.registry.version > version, { what: 'the mapping reloaded' })

        const [problem] = (await readyz()).problems
        expect(problem).to.deep.include({ workspace: 'default' })
        expect(problem.mapping).to.include({ reason: 'file invalid', file, since: '2026-11-02T10:00:00.000Z' })
        expect(problem.mapping.error).to.contain('/subscriptions/0/mapping/event').and.contain('@paht')
        let text = await metrics()
        expect(text).to.match(/koala_adapter_mapping_reload_failures_total\{workspace="default"\} 1/)
        expect(text).to.match(/koala_adapter_mapping_stale\{workspace="default"\} 1/)
        // The last good version keeps serving meanwhile.
        expect((await post(`${service.url}/webhook/default`, trackEvent(1))).body.delivered).to.equal(1)

        // A second bad edit: the newest error is shown, "since" stays when it went stale.
        now += 60_000
        edited.subscriptions[0].mapping.event = { '@tempalte': '{{event}}' }
        version = service.registry.version
        writeFileSync(file, JSON.stringify(edited))
        await until(() => service.registry.version > version, { what: 'the mapping reloaded' })
        const [again] = (await readyz()).problems
        expect(again.mapping.since).to.equal('2026-11-02T10:00:00.000Z')
        expect(again.mapping.error).to.contain('@tempalte')
        expect(await metrics()).to.match(/koala_adapter_mapping_reload_failures_total\{workspace="default"\} 2/)

        version = service.registry.version
        writeFileSync(file, JSON.stringify(defaultMapping()))
        await until(() => service.registry.version > version, { what: 'the mapping reloaded' })
        expect((await readyz()).problems).to.deep.equal([])
        text = await metrics()
        expect(text).to.match(/koala_adapter_mapping_stale\{workspace="default"\} 0/)
        expect(text).to.match(/koala_adapter_mapping_reload_failures_total\{workspace="default"\} 2/)
      } finally {
        await service.stop()
      }
    })
  })

  describe('ADMIN_PORT', () => {
    it('moves /readyz and /metrics to the admin port, open there without a token; the public port answers 404 for them', async () => {
      const service = await startHarness({ env: { ...env, KOALA_BASE_URL: sim.baseUrl }, overrides: { adminPort: 0 } })
      try {
        const admin = service.adminUrl!
        expect(admin).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(admin).not.to.equal(service.url)
        expect(service.said.join('\n')).to.contain(`${admin}/metrics`)
        for (const route of ['/readyz', '/metrics']) {
          const answer = await fetch(`${service.url}${route}`, { headers: ADMIN })
          expect(answer.status, route).to.equal(404)
          expect(await answer.text()).not.to.match(/default|koala_adapter/)
        }
        expect((await fetch(`${service.url}/healthz`)).status).to.equal(200)
        expect(await (await fetch(`${admin}/healthz`)).json()).to.deep.equal({ ok: true })
        expect(await (await fetch(`${admin}/readyz`)).json()).to.deep.equal({ ready: true, workspaces: ['default'], problems: [] })
        const metrics = await fetch(`${admin}/metrics`)
        expect(metrics.status).to.equal(200)
        expect(await metrics.text()).to.contain('koala_adapter_events_received_total')
        expect((await fetch(`${admin}/webhook/default`, { method: 'POST' })).status).to.equal(404)
      } finally {
        await service.stop()
      }
      let refused = false
      await fetch(`${service.adminUrl}/healthz`).catch(() => (refused = true))
      expect(refused, 'the admin port closes with the service').to.equal(true)
    })

    it('still asks for ADMIN_TOKEN on the admin port when it is set', async () => {
      const service = await startHarness({ env: { ...env, KOALA_BASE_URL: sim.baseUrl, ADMIN_TOKEN }, overrides: { adminPort: 0 } })
      try {
        const admin = service.adminUrl!
        expect((await fetch(`${admin}/metrics`)).status).to.equal(401)
        expect((await fetch(`${admin}/metrics`, { headers: ADMIN })).status).to.equal(200)
        expect(await (await fetch(`${admin}/readyz`)).json()).to.deep.equal({ ready: true })
        expect((await (await fetch(`${admin}/readyz`, { headers: ADMIN })).json()).workspaces).to.deep.equal(['default'])
      } finally {
        await service.stop()
      }
    })

    it('refuses an ADMIN_PORT that is not a port, or is PORT itself, naming the setting', () => {
      expect(() => loadConfig({ ADMIN_PORT: '99999' })).to.throw(/^setting ADMIN_PORT="99999" is not valid; allowed: a whole number, 0 to 65535/)
      expect(() => loadConfig({ ADMIN_PORT: 'admin' })).to.throw(/^setting ADMIN_PORT="admin" is not valid/)
      expect(() => loadConfig({ ADMIN_PORT: '8080', PORT: '8080' })).to.throw(/^setting ADMIN_PORT="8080" is not valid; 8080 is PORT too/)
      expect(loadConfig({ ADMIN_PORT: '9102', ADMIN_HOST: '10.0.0.5' })).to.include({ adminPort: 9102, adminHost: '10.0.0.5' })
      expect(loadConfig({}).adminPort).to.equal(undefined)
    })
  })

  describe('local mode', () => {
    it('starts its simulator on SIM_PORT (8090 by default), and each workspace sends with its own name as key', async () => {
      expect(loadConfig({}).simPort).to.equal(8090)
      expect(() => loadConfig({ SIM_PORT: '70000' })).to.throw(/^setting SIM_PORT="70000" is not valid/)
      const simPort = await freePort()
      const acme = defaultMapping()
      acme.koala = { publicApiKey: { env: 'ACME_KOALA_KEY' } }
      const service = await startHarness({ env: {}, overrides: { simPort }, files: { 'acme.json': acme } })
      try {
        const local = service.simulator!
        expect(local.port).to.equal(simPort)
        expect(service.said.join('\n')).to.contain(`http://127.0.0.1:${simPort}/_sim/requests (one workspace's: ?key=<workspace>)`)
        expect((await post(`${service.url}/webhook/acme`, trackEvent(1))).status).to.equal(200)
        expect((await post(`${service.url}/webhook/default`, trackEvent(2))).status).to.equal(200)
        const acmes = (await (await fetch(`${local.url}/_sim/requests?key=acme`)).json()) as any[]
        expect(acmes.map((r) => [r.key, r.path, r.body.events[0].message_id])).to.deep.equal([['acme', '/web/projects/acme/batch', 'msg-1']])
        expect(local.requests().map((r) => r.key)).to.deep.equal(['acme', 'default'])
      } finally {
        await service.stop()
      }
    })

    it('follows the variable the default mapping names for its Koala key, not KOALA_PUBLIC_API_KEY', async () => {
      const own = defaultMapping()
      own.koala = { publicApiKey: { env: 'DEFAULT_KOALA_KEY' } }
      // Its own variable set, KOALA_PUBLIC_API_KEY not: Koala (here `sim`, as KOALA_BASE_URL) with its key, and no local mode.
      const real = await startHarness({ env: { DEFAULT_KOALA_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl }, files: { 'default.json': own } })
      try {
        expect(real.simulator).to.equal(undefined)
        expect(real.said.join('\n')).not.to.contain('LOCAL MODE')
        expect((await post(`${real.url}/webhook/default`, trackEvent(1))).status).to.equal(200)
        expect(sim.requests().map((r) => r.key)).to.deep.equal([KOALA_KEY])
      } finally {
        await real.stop()
      }
      // KOALA_PUBLIC_API_KEY set, the default mapping's own variable not: local mode, saying which variable.
      sim.reset()
      const local = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl }, files: { 'default.json': own } })
      try {
        expect(local.said.join('\n')).to.contain('LOCAL MODE: DEFAULT_KOALA_KEY is not set')
        expect((await post(`${local.url}/webhook/default`, trackEvent(2))).status).to.equal(200)
        expect(local.simulator!.requests().map((r) => r.key)).to.deep.equal(['default'])
        expect(sim.requests()).to.deep.equal([])
      } finally {
        await local.stop()
      }
    })

    it('ends the start with a clear error when SIM_PORT is in use', async () => {
      const taken = createServer()
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
      const simPort = (taken.address() as { port: number }).port
      try {
        let error: Error | undefined
        await startHarness({ env: {}, overrides: { simPort } }).then((service) => service.stop(), (e: Error) => (error = e))
        expect(error?.message).to.equal(`SIM_PORT ${simPort} is in use, so local mode's Koala simulator cannot start; set SIM_PORT to a free port (0: any)`)
      } finally {
        await new Promise((resolve) => taken.close(resolve))
      }
    })
  })
})
