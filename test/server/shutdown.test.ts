import { expect } from 'chai'
import { loadConfig } from '../../src/config'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { KeepAliveConnection } from './keep-alive-connection'
import { KOALA_KEY, startHarness, trackEvent } from './service-harness'

describe('stopping the service', function () {
  this.timeout(20_000)
  let sim: RunningSimulator
  before(async () => {
    sim = await startSimulator({ port: 0 })
  })
  after(() => sim.close())

  it('answers a request that arrives on an idle keep-alive connection after SIGTERM, with Connection: close', async () => {
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: KOALA_KEY, KOALA_BASE_URL: sim.baseUrl }, overrides: { keepAliveTimeoutMs: 15_000 } })
    const connection = new KeepAliveConnection(service.port)
    try {
      const first = await connection.post('/webhook/default', trackEvent(1))
      expect(first).to.deep.include({ status: 200, connection: 'keep-alive' })
      const stopped = service.stop()
      // The client still holds the idle connection and sends its next request on it.
      const next = await connection.post('/webhook/default', trackEvent(2))
      expect(next).to.deep.include({ status: 200, connection: 'close' })
      // That answer closed the last connection: the stop does not wait for the keep-alive timeout.
      const started = Date.now()
      await stopped
      expect(Date.now() - started).to.be.below(10_000)
      await connection.closedByServer()
    } finally {
      connection.destroy()
      await service.stop()
    }
  })

  it('refuses a SHUTDOWN_GRACE_MS shorter than REQUEST_BUDGET_MS, in one line that says what to set', () => {
    expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '2000' })).to.throw(
      /^setting SHUTDOWN_GRACE_MS="2000" is not valid; 2000 ms is shorter than REQUEST_BUDGET_MS \(3500 ms\), so SIGTERM would cut off requests still delivering; set it to 3500 or more$/
    )
    expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '3000', REQUEST_BUDGET_MS: '3000' })).not.to.throw()
  })
})
