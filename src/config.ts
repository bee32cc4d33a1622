import { z } from 'zod'

/**
 * Every setting of the service, with its default written once, here. Parsed from
 * the environment at start-up into a frozen object; nothing else reads
 * `process.env` for settings or repeats a default.
 */
const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback)

export const ServiceConfig = z.object({
  /** PORT or --port. */
  port: int(8080),
  host: z.string().default('0.0.0.0'),
  /** Requests go to `$KOALA_BASE_URL/<url-encoded key>/batch`. */
  koalaBaseUrl: z.url().default('https://api2.getkoala.com/web/projects'),
  /** Sockets to Koala per process; a cap keeps a burst from opening hundreds. */
  koalaMaxSockets: int(32),
  /** One Koala HTTP attempt may take this long. */
  koalaTimeoutMs: int(2_000),
  /** Retries after the first attempt, when time allows. */
  koalaMaxRetries: int(5),
  koalaBackoffBaseMs: int(100),
  koalaBackoffMaxMs: int(2_000),
  /** How long a door may spend delivering before it answers Segment (which gives up at 5 s). */
  requestBudgetMs: int(3_500),
  /** Segment's own per-event limit is 32 KB. */
  maxEventBytes: int(32 * 1024),
  /** Segment's Actions webhooks send up to 4000 events per request. */
  maxBodyBytes: int(8 * 1024 * 1024),
  maxBatchEvents: int(4_000),
  // Above the per-event cap (64), so one deep event in a batch is dropped alone, not the whole request.
  maxJsonDepth: int(128),
  maxJsonKeys: int(200_000),
  headersTimeoutMs: int(10_000),
  requestTimeoutMs: int(30_000),
  shutdownGraceMs: int(10_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
})
export type ServiceConfig = z.infer<typeof ServiceConfig>

const ENV_NAMES: Record<keyof ServiceConfig, string> = {
  port: 'PORT',
  host: 'HOST',
  koalaBaseUrl: 'KOALA_BASE_URL',
  koalaMaxSockets: 'KOALA_MAX_SOCKETS',
  koalaTimeoutMs: 'KOALA_TIMEOUT_MS',
  koalaMaxRetries: 'KOALA_MAX_RETRIES',
  koalaBackoffBaseMs: 'KOALA_BACKOFF_BASE_MS',
  koalaBackoffMaxMs: 'KOALA_BACKOFF_MAX_MS',
  requestBudgetMs: 'REQUEST_BUDGET_MS',
  maxEventBytes: 'MAX_EVENT_BYTES',
  maxBodyBytes: 'MAX_BODY_BYTES',
  maxBatchEvents: 'MAX_BATCH_EVENTS',
  maxJsonDepth: 'MAX_JSON_DEPTH',
  maxJsonKeys: 'MAX_JSON_KEYS',
  headersTimeoutMs: 'HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  shutdownGraceMs: 'SHUTDOWN_GRACE_MS',
  logLevel: 'LOG_LEVEL'
}

/** The settings from the environment, overridden by `overrides` (command-line flags, tests); frozen. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServiceConfig> = {}): Readonly<ServiceConfig> {
  const raw: Record<string, unknown> = {}
  for (const [key, name] of Object.entries(ENV_NAMES)) if (env[name] !== undefined && env[name] !== '') raw[key] = env[name]
  const parsed = ServiceConfig.safeParse({ ...raw, ...overrides })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const key = String(issue.path[0]) as keyof ServiceConfig
    throw new Error(`setting ${ENV_NAMES[key] ?? key}: ${issue.message}`)
  }
  return Object.freeze(parsed.data)
}

/** The names of the environment variables, for the README and error messages. */
export const CONFIG_ENV_NAMES = ENV_NAMES
