import { once } from 'node:events'
import path from 'node:path'
import { signBody } from '../../src/server/signature'
import { startProcess, type RunningProcess } from '../support/long-running-process'

export const ROOT = path.join(__dirname, '..', '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')
export const SECRET = 'queue-e2e-secret'
export const WRITE_KEY = 'wk-queue-e2e'
export const KOALA_KEY = 'pk-queue-e2e'
/** Opens /metrics (sent as a bearer token). */
export const ADMIN_TOKEN = 'queue-e2e-admin-token-0123456789'

/** A real `koala-adapter sim` process; it outlives the services killed around it. */
export async function startSimulatorProcess(): Promise<RunningProcess & { url: string }> {
  const sim = await startProcess([BIN, 'sim', '--port', '0'], { ready: /listening on (http:\/\/\S+)/, cwd: ROOT, env: baseEnv() })
  return Object.assign(sim, { url: sim.match[1] })
}

/** A real `koala-adapter serve` in queue mode on `queueUrl`, sending to the simulator at `simUrl`. */
export async function startQueueService(queueUrl: string, simUrl: string, env: NodeJS.ProcessEnv = {}): Promise<RunningProcess & { url: string }> {
  const service = await startProcess([BIN, 'serve'], {
    ready: /adapter listening on (http:\/\/\S+)/,
    cwd: ROOT,
    env: {
      ...baseEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      KOALA_PUBLIC_API_KEY: KOALA_KEY,
      KOALA_BASE_URL: `${simUrl}/web/projects`,
      SEGMENT_SHARED_SECRET: SECRET,
      SEGMENT_WRITE_KEY: WRITE_KEY,
      QUEUE_URL: queueUrl,
      ADMIN_TOKEN,
      // Small waits, so a test about outages or takeovers sees them end within its bound.
      QUEUE_LINGER_MS: '50',
      KOALA_BACKOFF_BASE_MS: '20',
      KOALA_BACKOFF_MAX_MS: '200',
      ...env
    }
  })
  return Object.assign(service, { url: service.match[1] })
}

function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME }
}

/** One track call of `person`, numbered `seq` in their order, with a message id unique to the test. */
export function personEvent(person: number, seq: number, tag: string): Record<string, unknown> {
  return {
    type: 'track',
    event: 'Step Done',
    messageId: `${tag}-${person}-${seq}`,
    userId: `user-${person}`,
    timestamp: new Date(Date.UTC(2026, 11, 1) + seq * 1000).toISOString(),
    properties: { seq },
    context: { traits: { email: `person${person}@example.com` } }
  }
}

/** POSTs one event as Segment's webhook does (signed); resolves to the status, 0 when the connection failed. */
export async function sendWebhook(url: string, event: unknown): Promise<number> {
  const body = JSON.stringify(event)
  try {
    const answer = await fetch(`${url}/webhook/default`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signBody(body, SECRET) }, body })
    await answer.arrayBuffer()
    return answer.status
  } catch {
    return 0
  }
}

/** Every event entry the simulator took, in the order it took them: message_id and its `seq`. */
export async function deliveredEvents(simUrl: string): Promise<Array<{ messageId: string; seq: number; email: string }>> {
  const records = (await (await fetch(`${simUrl}/_sim/requests`)).json()) as Array<{ body: { email?: string; events?: Array<{ message_id: string; properties?: { seq?: number } }> } }>
  return records.flatMap((record) => (record.body.events ?? []).map((event) => ({ messageId: event.message_id, seq: event.properties?.seq ?? -1, email: record.body.email ?? '' })))
}

/** One counter or gauge of a service's /metrics (0 when absent), summed over its labels. */
export async function metricOf(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text()
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
}

/**
 * A simulator process for each test, and `service()` to start queue-mode services on it;
 * registered here as beforeEach/afterEach, which SIGKILLs the services and stops the simulator.
 */
export function useQueueProcesses(): {
  sim(): RunningProcess & { url: string }
  service(queueUrl: string, env?: NodeJS.ProcessEnv): Promise<RunningProcess & { url: string }>
  /** SIGKILLs the services started so far and resolves once they are gone (their files closed). */
  killServices(): Promise<void>
} {
  let sim: (RunningProcess & { url: string }) | undefined
  const services: RunningProcess[] = []
  beforeEach(async () => {
    sim = await startSimulatorProcess()
  })
  const killServices = async () => {
    await Promise.all(
      services.splice(0).map(async (service) => {
        if (service.child.exitCode !== null || service.child.signalCode !== null) return
        const gone = once(service.child, 'exit')
        service.child.kill('SIGKILL')
        await gone
      })
    )
  }
  afterEach(async () => {
    await killServices()
    await sim?.stop()
  })
  return {
    killServices,
    sim: () => sim!,
    async service(queueUrl, env = {}) {
      const service = await startQueueService(queueUrl, sim!.url, env)
      services.push(service)
      return service
    }
  }
}
