import { z } from 'zod'
import { durationMs } from './duration-setting'
import { AdapterError } from './errors'

/**
 * Every setting of the service, with its default written once, here. Parsed from
 * the environment at start-up into a frozen object; nothing else reads
 * `process.env` for settings or repeats a default.
 */
/** Replay map threads, from REPLAY_MAP_THREADS or --map-threads. */
export const MAX_REPLAY_MAP_THREADS = 16

const portNumber = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback)
const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback)
/** A count of which zero would mean nothing can happen (requests in flight, entries held). */
const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback)
const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((value) => value === true || value === 'true' || value === '1')
  .default(false)

export const ServiceConfig = z.object({
  /** PORT or --port. */
  port: portNumber(8080),
  /** Unset: all interfaces, except in local mode (no Koala key), where only loopback. */
  host: z.string().optional(),
  /** Requests go to `$KOALA_BASE_URL/<url-encoded key>/batch`. */
  koalaBaseUrl: z.url({ protocol: /^https?$/ }).default('https://api2.getkoala.com/web/projects'),
  /** Sockets to Koala per process; a cap keeps a burst from opening hundreds. */
  koalaMaxSockets: int(32),
  /** Koala requests one door request sends at once (a 1000-event batch can hold hundreds of people). */
  doorConcurrency: int(32),
  /** One Koala HTTP attempt may take this long. */
  koalaTimeoutMs: int(2_000),
  /** Retries after the first attempt, when time allows. */
  koalaMaxRetries: int(5),
  koalaBackoffBaseMs: int(100),
  koalaBackoffMaxMs: int(2_000),
  /** How long a door may spend delivering before it answers Segment (which gives up at 5 s). */
  requestBudgetMs: int(3_500),
  /**
   * Delivered message_ids remembered for door requests answered 503/429, so Segment's resend
   * sends only what is left (about 120 bytes each; kept 4 hours at most). 0: remember nothing.
   */
  deliveredMemoryIds: int(100_000),
  /** Segment's own per-event limit is 32 KB. */
  maxEventBytes: int(32 * 1024),
  /** Segment's Actions webhooks send up to 4000 events per request. */
  /** Room for 4000 events of ~4 KB, after inflation. */
  maxBodyBytes: int(16 * 1024 * 1024),
  maxBatchEvents: int(4_000),
  // Above the per-event cap (64), so one deep event in a batch is dropped alone, not the whole request.
  maxJsonDepth: int(128),
  /** A 16 MB body holds at most ~2.7 million keys; this caps what parsing may cost, not what Segment sends. */
  maxJsonKeys: int(2_000_000),
  headersTimeoutMs: int(10_000),
  requestTimeoutMs: int(30_000),
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeoutMs: int(5_000),
  /** Outside local mode a workspace without a shared secret refuses webhooks unless this is set. */
  allowUnsignedWebhooks: flag,
  /** `Authorization: Bearer <ADMIN_TOKEN>` opens /metrics and /readyz's workspace list; unset, nobody sees them. */
  adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * When set, /metrics and /readyz answer only on this port (and 404 on PORT), open there without a token
   * unless ADMIN_TOKEN is set. 0: any free port.
   */
  adminPort: z.coerce.number().int().min(0).max(65_535).optional(),
  /** The admin port's interface; unset: HOST's. */
  adminHost: z.string().min(1).optional(),
  /** `koala-adapter sim` without --port, and local mode's embedded simulator; 0: any free port. */
  simPort: portNumber(8090),
  /** How long SIGTERM waits for requests in flight; never shorter than `requestBudgetMs` (checked below). */
  shutdownGraceMs: int(10_000),
  /** `replay --concurrency` default: Koala requests in flight at once. */
  replayConcurrency: positiveInt(8),
  /**
   * Threads that parse and map a replay's lines while the main thread reads, batches and sends, in
   * archive order. `auto` (the default): 2 on a machine with 2 cores or more, none under 1 MB of files
   * (starting them would cost more than they save); 0 does it all in the main thread. 1.4-1.7x on 2 cores (BENCHMARKS.md).
   */
  replayMapThreads: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(MAX_REPLAY_MAP_THREADS)]).default('auto'),
  /**
   * Each replay map thread's heap limit (V8's old generation), MB: a thread over it ends the run with an error
   * instead of taking the machine's memory. It must hold the longest line (REPLAY_MAX_LINE_BYTES) parsed, several times over.
   */
  replayWorkerHeapMb: z.coerce.number().int().min(16).default(512),
  /** Entries a replay holds at once (open in the batcher, queued or in flight); reading pauses at this bound. */
  replayBufferEntries: positiveInt(5_000),
  /** An open request whose first entry waited this long is sent even if not full, so checkpoints keep moving. */
  replayMaxHoldMs: int(5_000),
  /** One replay request, retries and Retry-After waits included, gives up after this (then it is dead-lettered). */
  replayRequestBudgetMs: int(120_000),
  /** A replay has no one waiting on an answer, so it retries more than a door does. */
  replayMaxRetries: int(10),
  replayCheckpointIntervalMs: int(1_000),
  /** Off a terminal, one progress line per this interval. */
  replayProgressIntervalMs: int(5_000),
  /** The longest line (or whole multi-line JSON document) a replay reads; past it, the rest of the file is skipped and reported. */
  replayMaxLineBytes: int(64 * 1024 * 1024),
  /** Queue mode's store (`sqlite:PATH` or `postgres://…`); unset: direct mode. */
  queueUrl: z.string().min(1).optional(),
  /** How long a person's oldest queued entry waits for more of that person's, so they share a Koala request. */
  queueLingerMs: int(1_000),
  /** Queued entries not delivered within this are dead-lettered. */
  queueMaxAgeMs: durationMs('7d'),
  /** Unset: the store's defaults (src/queue/queue-store-options.ts). */
  queueMaxEntries: z.coerce.number().int().min(1).optional(),
  queueMaxBytes: z.coerce.number().int().min(1).optional(),
  /** A replica that does not settle a lease within this (it died) loses it to another; at least twice the request budget. */
  queueLeaseMs: int(60_000),
  /** Koala requests the deliverer has in flight at once, each for one person. */
  queueConcurrency: positiveInt(16),
  /** One queued Koala request, the client's retries included; then it waits in the queue and is sent again later. */
  queueRequestBudgetMs: int(10_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
}).superRefine((config, ctx) => {
  if (config.adminPort !== undefined && config.adminPort !== 0 && config.adminPort === config.port) {
    ctx.addIssue({ code: 'custom', path: ['adminPort'], message: `${config.adminPort} is PORT too; the admin port must be another one` })
  }
  // Refused rather than raised quietly: a grace shorter than the budget cuts off requests still delivering at SIGTERM.
  // A lease must outlast its request, or another replica takes the person over while it is still being sent.
  if (config.queueLeaseMs < 2 * config.queueRequestBudgetMs) {
    ctx.addIssue({ code: 'custom', path: ['queueLeaseMs'], message: `${config.queueLeaseMs} ms is under twice QUEUE_REQUEST_BUDGET_MS (${config.queueRequestBudgetMs} ms); set it to ${2 * config.queueRequestBudgetMs} or more` })
  }
  if (config.shutdownGraceMs < config.requestBudgetMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['shutdownGraceMs'],
      message: `${config.shutdownGraceMs} ms is shorter than REQUEST_BUDGET_MS (${config.requestBudgetMs} ms), so SIGTERM would cut off requests still delivering; set it to ${config.requestBudgetMs} or more`
    })
  }
})
export type ServiceConfig = z.infer<typeof ServiceConfig>

const ENV_NAMES: Record<keyof ServiceConfig, string> = {
  port: 'PORT',
  host: 'HOST',
  doorConcurrency: 'DOOR_CONCURRENCY',
  keepAliveTimeoutMs: 'KEEP_ALIVE_TIMEOUT_MS',
  allowUnsignedWebhooks: 'ALLOW_UNSIGNED_WEBHOOKS',
  adminToken: 'ADMIN_TOKEN',
  adminPort: 'ADMIN_PORT',
  adminHost: 'ADMIN_HOST',
  simPort: 'SIM_PORT',
  koalaBaseUrl: 'KOALA_BASE_URL',
  koalaMaxSockets: 'KOALA_MAX_SOCKETS',
  koalaTimeoutMs: 'KOALA_TIMEOUT_MS',
  koalaMaxRetries: 'KOALA_MAX_RETRIES',
  koalaBackoffBaseMs: 'KOALA_BACKOFF_BASE_MS',
  koalaBackoffMaxMs: 'KOALA_BACKOFF_MAX_MS',
  requestBudgetMs: 'REQUEST_BUDGET_MS',
  deliveredMemoryIds: 'DELIVERED_MEMORY_IDS',
  maxEventBytes: 'MAX_EVENT_BYTES',
  maxBodyBytes: 'MAX_BODY_BYTES',
  maxBatchEvents: 'MAX_BATCH_EVENTS',
  maxJsonDepth: 'MAX_JSON_DEPTH',
  maxJsonKeys: 'MAX_JSON_KEYS',
  headersTimeoutMs: 'HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  shutdownGraceMs: 'SHUTDOWN_GRACE_MS',
  replayConcurrency: 'REPLAY_CONCURRENCY',
  replayMapThreads: 'REPLAY_MAP_THREADS',
  replayWorkerHeapMb: 'REPLAY_WORKER_HEAP_MB',
  replayBufferEntries: 'REPLAY_BUFFER_ENTRIES',
  replayMaxHoldMs: 'REPLAY_MAX_HOLD_MS',
  replayRequestBudgetMs: 'REPLAY_REQUEST_BUDGET_MS',
  replayMaxRetries: 'REPLAY_MAX_RETRIES',
  replayCheckpointIntervalMs: 'REPLAY_CHECKPOINT_INTERVAL_MS',
  replayProgressIntervalMs: 'REPLAY_PROGRESS_INTERVAL_MS',
  replayMaxLineBytes: 'REPLAY_MAX_LINE_BYTES',
  queueUrl: 'QUEUE_URL',
  queueLingerMs: 'QUEUE_LINGER_MS',
  queueMaxAgeMs: 'QUEUE_MAX_AGE',
  queueMaxEntries: 'QUEUE_MAX_ENTRIES',
  queueMaxBytes: 'QUEUE_MAX_BYTES',
  queueLeaseMs: 'QUEUE_LEASE_MS',
  queueConcurrency: 'QUEUE_CONCURRENCY',
  queueRequestBudgetMs: 'QUEUE_REQUEST_BUDGET_MS',
  logLevel: 'LOG_LEVEL'
}

/** The settings from the environment, overridden by `overrides` (command-line flags, tests); frozen. Throws CONFIG_INVALID naming the first bad setting, its value and what it takes. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServiceConfig> = {}): Readonly<ServiceConfig> {
  const raw: Record<string, unknown> = {}
  for (const [key, name] of Object.entries(ENV_NAMES)) if (env[name] !== undefined && env[name] !== '') raw[key] = env[name]
  const input: Record<string, unknown> = { ...raw, ...overrides }
  const parsed = ServiceConfig.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const key = String(issue.path[0]) as keyof ServiceConfig
    const name = ENV_NAMES[key] ?? key
    const problem = issue.code === 'custom' ? issue.message : `allowed: ${allowedValues(ServiceConfig.shape[key])}`
    throw new AdapterError('CONFIG_INVALID', `setting ${name}=${shownValue(key, input[key])} is not valid; ${problem}`)
  }
  return Object.freeze(parsed.data)
}

/** Settings whose value is never printed: a token, or a URL that may carry a password (in its query too). */
const SECRET_SETTINGS: ReadonlySet<keyof ServiceConfig> = new Set(['adminToken', 'queueUrl'])

/** A setting's value fit for one line of a terminal or log: quoted, short, no secret. */
function shownValue(key: keyof ServiceConfig, value: unknown): string {
  if (SECRET_SETTINGS.has(key)) return `(${String(value).length} characters, not shown)`
  const text = String(value).replace(/\/\/[^/@]*@/, '//***@')
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)
}

/** What a setting takes, read from its schema, so it cannot drift from what is checked. */
function allowedValues(schema: z.ZodType): string {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def
  if (def.innerType !== undefined) return allowedValues(def.innerType as z.ZodType)
  if (def.in !== undefined) return allowedValues(def.in as z.ZodType)
  if (schema instanceof z.ZodNumber) {
    const min = schema.minValue ?? -Infinity
    // .int() alone caps at MAX_SAFE_INTEGER, which is no limit to a person.
    const max = schema.maxValue ?? Infinity
    const range = max >= Number.MAX_SAFE_INTEGER ? `${Math.max(min, 0)} or more` : `${min} to ${max}`
    return `a whole number, ${range}, without a unit`
  }
  if (schema instanceof z.ZodEnum) return schema.options.map(String).join(', ')
  if (schema instanceof z.ZodLiteral) return schema.values.size === 1 ? String([...schema.values][0]) : [...schema.values].join(', ')
  if (schema instanceof z.ZodUnion) {
    // A flag is also a boolean for overrides; in the environment it is one of its words.
    return (schema.options as z.ZodType[]).filter((option) => !(option instanceof z.ZodBoolean)).map(allowedValues).join(', or ')
  }
  if (schema instanceof z.ZodURL) return 'an http:// or https:// URL'
  if (schema instanceof z.ZodString) return schema.minLength !== null ? `at least ${schema.minLength} characters` : 'any text'
  return 'see the README'
}

/**
 * How one door delivers to Koala: requests in flight at once, how long a delivery may take
 * (retries and Retry-After waits included) and how many retries it may make within that.
 */
export type DeliveryPolicy = {
  /** Koala requests in flight at once (for the server: per door request). */
  readonly concurrency: number
  /** The server's budget runs from the door request's start (shared by its requests); the replay's from each request's start. */
  readonly budgetMs: number
  /** Retries after the first attempt, when the budget allows. */
  readonly maxRetries: number
}

/**
 * The delivery policy of each door, from the settings: the server answers Segment within
 * its 5 s, so it retries little; a replay has no one waiting and retries longer; queue
 * mode's deliverer retries within a longer budget, then again later from the store. Built
 * here once, so no door renames settings to make a client of its own.
 */
export function deliveryPolicies(config: ServiceConfig): { door: DeliveryPolicy; replay: DeliveryPolicy; queue: DeliveryPolicy } {
  return {
    // Queue mode's deliverer: nobody waits on it, and what fails waits in the store to be sent again.
    queue: Object.freeze({ concurrency: config.queueConcurrency, budgetMs: config.queueRequestBudgetMs, maxRetries: config.koalaMaxRetries }),
    door: Object.freeze({ concurrency: config.doorConcurrency, budgetMs: config.requestBudgetMs, maxRetries: config.koalaMaxRetries }),
    replay: Object.freeze({ concurrency: config.replayConcurrency, budgetMs: config.replayRequestBudgetMs, maxRetries: config.replayMaxRetries })
  }
}

/** The names of the environment variables, for the README and error messages. */
export const CONFIG_ENV_NAMES = ENV_NAMES
