import { expect } from 'chai'
import net from 'node:net'
import { loadConfig } from '../../src/config'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { KOALA_KEY, startHarness, trackEvent } from './service-harness'

/**
 * One keep-alive connection driven by hand (no client pool, no interceptor in the way):
 * each POST is written on the same socket, and its answer read back.
 */
class KeepAliveConnection {
  private buffered = ''
  private waiting: (() => void) | undefined
  private closed = false
  private readonly socket: net.Socket

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.setEncoding('utf8')
    this.socket.on('data', (chunk: string) => {
      this.buffered += chunk
      this.waiting?.()
    })
    this.socket.on('close', () => {
      this.closed = true
      this.waiting?.()
    })
    this.socket.on('error', () => undefined)
  }

  async post(path: string, body: unknown): Promise<{ status?: number; connection?: string; reset?: true }> {
    const text = JSON.stringify(body)
    this.socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
    for (;;) {
      const headEnd = this.buffered.indexOf('\r\n\r\n')
      if (headEnd >= 0) {
        const head = this.buffered.slice(0, headEnd)
        const length = Number(/^content-length: *(\d+)/im.exec(head)?.[1] ?? 0)
        if (this.buffered.length >= headEnd + 4 + length) {
          this.buffered = this.buffered.slice(headEnd + 4 + length)
          return { status: Number(head.split(' ')[1]), connection: /^connection: *(.+)$/im.exec(head)?.[1].trim() }
        }
      }
      if (this.closed) return { reset: true }
      await new Promise<void>((resolve) => (this.waiting = resolve))
    }
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => (this.waiting = resolve))
  }

  destroy(): void {
    this.socket.destroy()
  }
}

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
      expect(next).to.deep.equal({ status: 200, connection: 'close' })
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
