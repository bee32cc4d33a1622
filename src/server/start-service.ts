import { createServer, type Server } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import type { DestinationStream, Logger } from 'pino'
import { existsSync, statSync } from 'node:fs'
import { deliveryPolicies, loadConfig, type ServiceConfig } from '../config'
import { AdapterError } from '../errors'
import { createKoalaClient, realTimer, type KoalaClient, type SetTimer } from '../koala/koala-client'
import { loadMappingFile } from '../mapping/load-mapping'
import { koalaKeyIsSet } from '../workspace/resolve-workspace'
import { defaultMappingFile, WorkspaceRegistry } from '../workspace/workspace-registry'
import { admitWorkspace, doorStates, type ServedWorkspace } from './door-policy'
import { startSimulator, type RunningSimulator } from '../simulator/start-simulator'
import { createAdminApp } from './admin-routes'
import { createApp } from './app'
import { maskEmails } from '../json/mask-emails'
import { createLogger } from './logger'
import { DeliveredMemory } from './delivered-memory'
import { createMetrics } from './metrics'
import { WorkspaceHealth } from './workspace-health'
import { startQueueMode, type QueueMode } from './queue-mode'

/** The embedded simulator of local mode keeps this many requests for `GET /_sim/requests`. */
const LOCAL_SIMULATOR_RECORDS = 10_000
/** A reload's problems shown in /readyz: the first few say what to fix; the log has them all. */
const MAX_SHOWN_PROBLEMS = 3

export type ServiceOptions = {
  mappingsDir: string
  builtinDefaultFile: string
  env?: NodeJS.ProcessEnv
  overrides?: Partial<ServiceConfig>
  /** Where logs go (tests capture them); stdout by default. */
  logDestination?: DestinationStream
  /** Plain start-up lines for a person (stderr by default). */
  say?: (line: string) => void
  watch?: boolean
  /** The clock of request budgets, Koala retries and refusal logs: tests inject one to model a slow Koala without waiting. */
  now?: () => number
  /** Koala's attempt timer and the wait between retries: tests that model time with `now` give ones that follow it. */
  setTimer?: SetTimer
  sleep?: (ms: number) => Promise<void>
}

export type RunningService = {
  url: string
  port: number
  /** Where /readyz and /metrics answer when ADMIN_PORT is set. */
  adminUrl: string | undefined
  registry: WorkspaceRegistry<ServedWorkspace>
  logger: Logger
  /** The embedded simulator, in local mode (the default workspace's Koala key variable unset). */
  simulator: RunningSimulator | undefined
  /** Queue mode's store and deliverer (QUEUE_URL or --queue); undefined in direct mode. */
  queue: QueueMode | undefined
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes everything. */
  stop(): Promise<void>
}

/** Starts the service; throws (naming the file and pointer, or the variable) when a mapping cannot be served. */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const env = options.env ?? process.env
  const config = loadConfig(env, options.overrides)
  const say = options.say ?? ((line: string) => process.stderr.write(line + '\n'))
  const logger = createLogger(config.logLevel, options.logDestination)
  const metrics = createMetrics()
  const now = options.now ?? Date.now
  const health = new WorkspaceHealth(now)

  if (!existsSync(options.mappingsDir) || !statSync(options.mappingsDir).isDirectory()) {
    throw new AdapterError('USAGE', `the mapping folder ${options.mappingsDir} does not exist`)
  }
  // Local mode follows the variable the default mapping names for its Koala key (KOALA_PUBLIC_API_KEY in the
  // built-in one), not a fixed name: a folder whose default.json names its own variable, set, is not local.
  const defaultMapping = loadMappingFile(defaultMappingFile(options.mappingsDir, options.builtinDefaultFile))
  const localMode = !koalaKeyIsSet(defaultMapping, env)
  const defaultKeyVariable = defaultMapping.compiled.config.koala.publicApiKey.env
  // Local mode opens doors without secrets: keep them off the network unless HOST says otherwise.
  const host = config.host ?? (localMode ? '127.0.0.1' : '0.0.0.0')
  const simulator = localMode ? await startLocalSimulator(config.simPort) : undefined
  const notices: string[] = []
  let started = false
  const registry = new WorkspaceRegistry<ServedWorkspace>(
    {
      mappingsDir: options.mappingsDir,
      builtinDefaultFile: options.builtinDefaultFile,
      koalaBaseUrl: config.koalaBaseUrl,
      localKoala: simulator === undefined ? undefined : { baseUrl: simulator.baseUrl },
      env,
      admit: (workspace) => admitWorkspace(workspace, { localMode, allowUnsignedWebhooks: config.allowUnsignedWebhooks })
    },
    {
      // Before the start they join the start-up lines; after it (a reload) they are warnings.
      notice: (message) => (started ? logger.warn({ notice: message }, 'workspace door changed') : notices.push(message)),
      reloadFailed: (name, file, problems) => {
        metrics.mappingReloadFailures.inc({ workspace: name })
        health.mappingLoadFailed(name, maskEmails(problems.slice(0, MAX_SHOWN_PROBLEMS).join('; ')))
        logger.error({ workspace: name, file, problems: problems.map(maskEmails) }, 'mapping reload failed; the last good version keeps serving')
      },
      reloaded: (names) => {
        showStale()
        logger.info({ workspaces: names }, 'mappings reloaded')
      },
      stale: (name, reason, file) => {
        health.mappingStale(name, reason, file)
        logger.warn({ workspace: name, file, reason }, 'mapping file missing or invalid; its last good version keeps serving until it is back or the service restarts')
      },
      fresh: (name) => {
        health.mappingFresh(name)
        logger.info({ workspace: name }, 'mapping file back; serving it again')
      }
    }
  )
  // Every served workspace has a value (0 or 1), so an alert can tell "fine" from "never scraped".
  const showStale = () => {
    for (const name of registry.names()) metrics.mappingStale.set({ workspace: name }, health.mappingIsStale(name) ? 1 : 0)
  }
  try {
    registry.load()
  } catch (error) {
    await simulator?.close()
    throw error
  }
  showStale()

  const { door: policy, queue: queuePolicy } = deliveryPolicies(config)
  // In queue mode only the deliverer talks to Koala, with the queue's policy.
  const client: KoalaClient = createKoalaClient(config, config.queueUrl === undefined ? policy : queuePolicy, {
    onAttemptStart: ({ endpoint }) => metrics.koalaInFlight.inc({ endpoint }),
    onAttempt: ({ endpoint, status, code, durationMs }) => {
      metrics.koalaInFlight.dec({ endpoint })
      metrics.koalaRequests.inc({ endpoint, status: status !== undefined ? String(status) : (code ?? 'error') })
      metrics.koalaLatency.observe({ endpoint }, durationMs / 1000)
    },
    onRetry: ({ endpoint }) => metrics.koalaRetries.inc({ endpoint })
  }, { now, setTimer: options.setTimer, sleep: options.sleep })
  const queue: QueueMode | undefined =
    config.queueUrl === undefined
      ? undefined
      : await startQueueMode({ url: config.queueUrl, config, registry, client, metrics, logger, now, storeClock: options.now, setTimer: options.setTimer }).catch(async (error: unknown) => {
          client.close()
          registry.close()
          await simulator?.close()
          throw error
        })
  const delivered = new DeliveredMemory(config.deliveredMemoryIds, now)
  const app = createApp({ config, policy, registry, client, metrics, logger, health, delivered, now, setTimer: options.setTimer ?? realTimer, queue })
  // A public webhook receiver: slow or idle clients must not hold sockets for long.
  // Node checks those timeouts every `connectionsCheckingInterval` (30 s by default),
  // too coarse for a 10 s headers timeout.
  const server: Server = createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs)
    },
    app
  )
  // ADMIN_PORT: /readyz and /metrics on a port of their own, which a deployment keeps private.
  const adminServer: Server | undefined =
    config.adminPort === undefined ? undefined : createServer({ keepAliveTimeout: config.keepAliveTimeoutMs }, createAdminApp({ registry, metrics, health, queueStatus: queue?.status }, config.adminToken))
  const adminHost = config.adminHost ?? host
  try {
    await listen(server, config.port, host)
    if (adminServer !== undefined) await listen(adminServer, config.adminPort as number, adminHost)
    if (options.watch !== false) registry.watch()
  } catch (error) {
    server.close()
    adminServer?.close()
    await queue?.stop()
    client.close()
    registry.close()
    await simulator?.close()
    throw listenError(error, host, config.port)
  }
  started = true

  const bound = server.address() as AddressInfo
  const port = bound.port
  const url = `http://${reachableHost(bound)}:${port}`
  const adminBound = adminServer === undefined ? undefined : (adminServer.address() as AddressInfo)
  const adminPort = adminBound?.port
  const adminUrl = adminBound === undefined ? undefined : `http://${reachableHost(adminBound)}:${adminBound.port}`
  announce(say, { url, bound, adminUrl, simulator, defaultKeyVariable, notices, registry, config })
  logger.info(
    { port, host: bound.address, adminPort, adminHost: adminBound?.address, workspaces: registry.names(), localMode, doors: doorStates(registry.names().map((name) => registry.get(name) as ServedWorkspace)), notices },
    'listening'
  )

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('stopping: no new connections; finishing in-flight requests')
      // Every answer from now on closes its connection, so a keep-alive client learns it
      // from the answer instead of a reset under a request it is already sending.
      server.prependListener('request', (_req, res) => res.setHeader('Connection', 'close'))
      // net.Server's close, not http.Server's: that one also cuts idle keep-alive sockets at once,
      // racing requests on their way. They end with their keep-alive timeout instead, which
      // clients were told (Keep-Alive: timeout=...) and do not reuse a socket past.
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()))
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs)
      await closed
      clearTimeout(grace)
      // Now http.Server's close only stops its connection checks (the server is no longer listening).
      server.close(() => undefined)
      // Probes and scrapes see the service until its doors are closed.
      if (adminServer !== undefined) {
        const adminClosed = new Promise<void>((resolve) => adminServer.close(() => resolve()))
        adminServer.closeAllConnections()
        await adminClosed
      }
      // What the deliverer has in flight settles; what is stored waits for the next start.
      await queue?.stop()
      registry.close()
      client.close()
      await simulator?.close()
      logger.info('stopped')
    })())
  return { url, port, adminUrl, registry, logger, simulator, queue, stop }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** Local mode's Koala, on SIM_PORT (a fixed port, so its address stays the same between runs). */
async function startLocalSimulator(port: number): Promise<RunningSimulator> {
  try {
    return await startSimulator({ port, maxRecords: LOCAL_SIMULATOR_RECORDS })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    throw new AdapterError('USAGE', `SIM_PORT ${port} is in use, so local mode's Koala simulator cannot start; set SIM_PORT to a free port (0: any)`)
  }
}

function announce(
  say: (line: string) => void,
  s: {
    url: string
    bound: AddressInfo
    adminUrl: string | undefined
    simulator: RunningSimulator | undefined
    defaultKeyVariable: string
    notices: string[]
    registry: WorkspaceRegistry<ServedWorkspace>
    config: Readonly<ServiceConfig>
  }
): void {
  const all = s.bound.address === '0.0.0.0' || s.bound.address === '::'
  say(`segment-koala-adapter listening on ${s.url}${all ? ` (bound to ${s.bound.family === 'IPv6' ? `[${s.bound.address}]` : s.bound.address}:${s.bound.port}: every interface)` : ''}`)
  if (s.adminUrl !== undefined) say(`  admin port:        ${s.adminUrl}/readyz, ${s.adminUrl}/metrics (not on the port above)`)
  say(`  webhook door:      POST ${s.url}/webhook/<workspace>   (workspaces: ${s.registry.names().join(', ')})`)
  say(`  Tracking API door: POST ${s.url}/v1/batch (point @segment/analytics-node's host here)`)
  if (s.config.queueUrl !== undefined) say(`  queue mode:        events are stored (${s.config.queueUrl.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL'}), answered, then delivered to Koala in the background`)
  if (s.simulator !== undefined) {
    say(`LOCAL MODE: ${s.defaultKeyVariable} is not set (the default workspace's Koala key), so workspaces without a Koala key of their own send to a local simulator, not to Koala.`)
    say(`  Events go to a local Koala simulator at ${s.simulator.baseUrl}; see what it received: GET ${s.simulator.url}/_sim/requests (one workspace's: ?key=<workspace>)`)
    say(`  To send to Koala: ${s.defaultKeyVariable}=<your public key> SEGMENT_SHARED_SECRET=<webhook secret> SEGMENT_WRITE_KEY=<write key> npm start`)
  } else {
    say(`Koala: ${withoutCredentials(s.config.koalaBaseUrl)}`)
  }
  for (const notice of s.notices) say(`  ${notice}`)
}

/** Where this machine reaches the address really bound: loopback for an any-interface bind, brackets for IPv6. */
function reachableHost(bound: AddressInfo): string {
  if (bound.address === '0.0.0.0') return '127.0.0.1'
  if (bound.address === '::') return '[::1]'
  return bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
}

/** A failed listen as one line naming the setting to change (PORT or HOST), never a stack trace. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code
  if (code === 'EADDRINUSE') {
    return new AdapterError('CONFIG_INVALID', `setting PORT=${port}: the port is in use on ${host}; allowed: a free port, or 0 for any free port`, { cause: error })
  }
  if (code === 'EACCES') {
    return new AdapterError('CONFIG_INVALID', `setting PORT=${port}: not allowed to listen on it (ports below 1024 need privileges); allowed: a port from 1024 to 65535, or 0`, { cause: error })
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new AdapterError('CONFIG_INVALID', `setting HOST=${JSON.stringify(host)}: no interface of this machine has that address (${code}); allowed: one of its addresses, 0.0.0.0 or ::`, { cause: error })
  }
  return error
}

/** A URL fit to print: a user name or password in it (`https://user:pass@host`) is masked. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url)
  if (parsed.username === '' && parsed.password === '') return url
  parsed.username = '***'
  parsed.password = parsed.password === '' ? '' : '***'
  return parsed.toString()
}
