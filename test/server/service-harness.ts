import { tempDir } from '../support/temp-dir'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import type { ServiceConfig } from '../../src/config'
import { startService, type RunningService, type ServiceOptions } from '../../src/server/start-service'

export const ROOT = path.join(__dirname, '..', '..')
export const BUILTIN_DEFAULT = path.join(ROOT, 'mappings', 'default.json')
export const KOALA_KEY = 'pk_test_9f8e7d'
export const WRITE_KEY = 'wk_test_1a2b3c'
export const SHARED_SECRET = 'shh-test-secret'
export const WEBHOOK_TOKEN = 'tok-test-4d5e6f'
export const ADMIN_TOKEN = 'admin-test-token-0123456789'
/** The header that opens /metrics and /readyz's details (set ADMIN_TOKEN in the service's env). */
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` }

/** Log lines a service wrote, kept in memory so tests can read them. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
    done()
  }
  get text(): string {
    return this.lines.join('\n')
  }
}

export type Harness = RunningService & { logs: LogCapture; said: string[]; mappingsDir: string }

/** Starts the real service on a free port, with a private copy of the mapping folder. */
export async function startHarness(
  options: { env?: NodeJS.ProcessEnv; overrides?: Partial<ServiceConfig>; watch?: boolean; files?: Record<string, unknown> } & Pick<ServiceOptions, 'now' | 'setTimer' | 'sleep'> = {}
): Promise<Harness> {
  const mappingsDir = tempDir('mappings-')
  cpSync(path.join(ROOT, 'mappings'), mappingsDir, { recursive: true })
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(path.join(mappingsDir, name), typeof content === 'string' ? content : JSON.stringify(content))
  }
  const logs = new LogCapture()
  const said: string[] = []
  const service = await startService({
    mappingsDir,
    builtinDefaultFile: BUILTIN_DEFAULT,
    env: options.env ?? {},
    // Most suites are not about signatures; the ones that are set a secret or turn this off.
    // A 1 s keep-alive is announced as `Keep-Alive: timeout=1`, which fetch takes as "do not reuse":
    // its sockets close after each answer, so stop() (which lets idle sockets end with their
    // keep-alive, not cut them) returns at once. The shutdown suite sets its own.
    // simPort 0: suites start many local-mode services at once; SIM_PORT's fixed default would collide.
    overrides: { port: 0, simPort: 0, host: '127.0.0.1', logLevel: 'info', allowUnsignedWebhooks: true, keepAliveTimeoutMs: 1_000, ...options.overrides },
    logDestination: logs,
    say: (line) => said.push(line),
    watch: options.watch ?? false,
    now: options.now,
    setTimer: options.setTimer,
    sleep: options.sleep
  })
  return Object.assign(service, { logs, said, mappingsDir })
}

/** POSTs JSON (or raw text) to the service and returns status, headers and the decoded answer. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text })
  const raw = await response.text()
  let json: any
  try {
    json = JSON.parse(raw)
  } catch {
    json = raw
  }
  return { status: response.status, headers: response.headers, body: json }
}

export const trackEvent = (n: number, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: `Event ${n}`,
  messageId: `msg-${n}`,
  timestamp: '2026-11-02T10:00:00.000Z',
  userId: 'u1',
  properties: { n },
  context: { library: { name: 'analytics-node' }, traits: { email: 'ada@example.com' } },
  ...extra
})

/** The built-in default mapping, as an object to edit into another workspace's file. */
export function defaultMapping(): any {
  return JSON.parse(readFileSync(BUILTIN_DEFAULT, 'utf8'))
}
