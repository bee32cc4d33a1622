import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { faultsOrThrow, type Fault, type FaultInput } from './fault-queue'
import type { RecordedRequest } from './request-log'
import { createSimulatorApp, type SimulatorAppOptions } from './simulator-app'

export type SimulatorOptions = SimulatorAppOptions & {
  /** 0 (the default) picks any free port. */
  port?: number
  /** Loopback by default: the simulator accepts anything, so it should not face a network. */
  host?: string
}

export type RunningSimulator = {
  /** e.g. `http://127.0.0.1:PORT` */
  url: string
  /** `url + '/web/projects'`: what KOALA_BASE_URL should be set to. */
  baseUrl: string
  port: number
  /** Accepted ingestion requests, in the order they were accepted; only those sent with `key` when given. */
  requests(key?: string): RecordedRequest[]
  /** Forgets the requests (like `DELETE /_sim/requests`); pending faults stay. */
  clear(): void
  /** Queues faults (like `POST /_sim/faults`); throws on an invalid one. */
  addFaults(faults: FaultInput | FaultInput[]): void
  /** Faults not yet used up, `times` being the uses left. */
  pendingFaults(): Fault[]
  /** Drops pending faults (like `DELETE /_sim/faults`). */
  clearFaults(): void
  /** clear() and clearFaults(): a clean simulator for the next test. */
  reset(): void
  /** Stops listening and cuts every open connection, so the port is free when it resolves. */
  close(): Promise<void>
}

/** Starts a local Koala on `host:port` and resolves once it listens. */
export function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const { port = 0, host = '127.0.0.1', ...appOptions } = options
  const sim = createSimulatorApp(appOptions)
  const server = createServer(sim.handler)
  // Memoised: a second close() (an after() hook plus a test) must not throw ERR_SERVER_NOT_RUNNING.
  let closed: Promise<void> | undefined

  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const actualPort = (server.address() as AddressInfo).port
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`
      resolve({
        url,
        baseUrl: `${url}/web/projects`,
        port: actualPort,
        requests: (key) => sim.log.list(key),
        clear: () => sim.log.clear(),
        addFaults: (faults) => sim.faults.add(faultsOrThrow(faults)),
        pendingFaults: () => sim.faults.list(),
        clearFaults: () => sim.faults.clear(),
        reset: () => {
          sim.log.clear()
          sim.faults.clear()
        },
        close: () => (closed ??= close(server, sim.shutdown))
      })
    })
  })
}

function close(server: ReturnType<typeof createServer>, shutdown: () => void): Promise<void> {
  shutdown()
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()))
    // Keep-alive sockets would otherwise hold close() open for seconds.
    server.closeAllConnections()
  })
}
