import { expect } from 'chai'
import { once } from 'node:events'
import path from 'node:path'
import { startProcess, type RunningProcess } from '../support/long-running-process'
import { until } from '../support/until'
import { post, ROOT, trackEvent } from './service-harness'

type Fresh = RunningProcess & { url: string; simUrl: string }

/** Starts `koala-adapter serve` as a user would, with no Koala key and no Segment set-up; resolves once it says where the simulator is. */
async function serveFresh(extraEnv: NodeJS.ProcessEnv = {}): Promise<Fresh> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', SIM_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...extraEnv }
  const running = await startProcess([path.join(ROOT, 'bin', 'koala-adapter.js'), 'serve'], { ready: /GET (http:\/\/[^\s]+)\/_sim\/requests/, cwd: ROOT, env })
  const url = /listening on (http:\/\/[^\s]+)/.exec(running.output())![1]
  return Object.assign(running, { url, simUrl: running.match[1] })
}

describe('the service as a process', function () {
  this.timeout(60_000)

  it('starts on its embedded default with no key, says where events go, and delivers to the local simulator', async () => {
    const service = await serveFresh()
    try {
      // Ready once it names the simulator; the start-up lines after that one may come in a later chunk.
      await until(() => service.output().includes('the Tracking API takes ANY write key'), { what: 'the start-up lines, to the last notice' })
      expect(service.output()).to.contain('LOCAL MODE: KOALA_PUBLIC_API_KEY is not set')
      expect(service.output()).to.contain('To send to Koala: KOALA_PUBLIC_API_KEY=')
      expect(service.output()).to.contain('accepts UNSIGNED requests (insecure local mode)')
      const answer = await post(`${service.url}/webhook/default`, trackEvent(1))
      expect(answer.status).to.equal(200)
      const received = (await (await fetch(`${service.simUrl}/_sim/requests`)).json()) as any[]
      expect(received).to.have.length(1)
      expect(received[0].body.events[0].message_id).to.equal('msg-1')
    } finally {
      service.child.kill('SIGKILL')
    }
  })

  it('on SIGTERM stops accepting, finishes the request in flight, then exits 0', async () => {
    // Budgets far above the simulated 1.5 s latency: the request must end by being answered, however slow this machine.
    const service = await serveFresh({ KOALA_TIMEOUT_MS: '20000', REQUEST_BUDGET_MS: '20000', SHUTDOWN_GRACE_MS: '30000' })
    try {
      const fault = await post(`${service.simUrl}/_sim/faults`, { latencyMs: 1_500, times: 1 })
      expect(fault.status).to.be.within(200, 299)
      const inFlight = post(`${service.url}/webhook/default`, trackEvent(2))
      // In flight: the simulator took the latency fault on the request's arrival and is holding it.
      const pendingFaults = async () => ((await (await fetch(`${service.simUrl}/_sim/faults`)).json()) as unknown[]).length
      await until(async () => (await pendingFaults()) === 0, { what: 'the request held at the simulator' })
      service.child.kill('SIGTERM')
      const answer = await inFlight
      expect(answer.status).to.equal(200)
      expect(answer.body.delivered).to.equal(1)
      // stop() would send a second SIGTERM; the first one's exit is what counts.
      const exitCode = service.child.exitCode ?? ((await once(service.child, 'exit')) as [number | null])[0]
      expect(exitCode).to.equal(0)
      let refused = false
      await fetch(`${service.url}/healthz`).catch(() => (refused = true))
      expect(refused).to.equal(true)
    } finally {
      service.child.kill('SIGKILL')
    }
  })
})
