import path from 'node:path'
import { AdapterError } from '../errors'
import type { QueueStore } from './queue-store'
import type { QueueStoreOptions } from './queue-store-options'

/** What QUEUE_URL (or `--queue`) may name, for error messages. */
const TAKES = 'sqlite:PATH (a file) or postgres://USER@HOST:PORT/DATABASE[?schema=NAME]'
/** What QueueStoreOptions' schema takes, checked here so a bad `?schema=` is a CONFIG_INVALID. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/

/**
 * The store QUEUE_URL names: `sqlite:PATH` (PATH relative to the working folder, or
 * absolute; `sqlite:///abs/path` also works) or `postgres://…` / `postgresql://…`, whose
 * `?schema=NAME` names the tables' schema (unless `options.schema` does), so every process
 * given the same URL (the service, the CLI) uses the same tables.
 * CONFIG_INVALID names what is wrong; the URL itself is never repeated, since a
 * PostgreSQL URL can hold a password. Each driver is loaded only when its scheme is used.
 */
export async function openQueueStore(url: string, options: QueueStoreOptions = {}): Promise<QueueStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  if (scheme === 'sqlite') {
    const file = sqlitePath(url)
    const { ThreadedSqliteQueueStore } = await import('./threaded-sqlite-queue-store')
    return ThreadedSqliteQueueStore.open(file, options)
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: not a valid ${scheme}:// URL; it takes ${TAKES}`)
    }
    const schema = parsed.searchParams.get('schema')
    if (schema === null) return openPostgres(url, options)
    if (!SCHEMA_NAME.test(schema)) throw new AdapterError('CONFIG_INVALID', 'QUEUE_URL: schema= takes lower-case letters, digits and _ (not starting with a digit)')
    // pg would not read it, but it is ours, not the driver's: taken out before the URL reaches pg.
    parsed.searchParams.delete('schema')
    return openPostgres(parsed.toString(), { ...options, schema: options.schema ?? schema })
  }
  const named = scheme === undefined ? 'has no scheme' : `has the scheme "${scheme}:", which the queue does not take`
  throw new AdapterError('CONFIG_INVALID', `QUEUE_URL ${named}; it takes ${TAKES}`)
}

async function openPostgres(url: string, options: QueueStoreOptions): Promise<QueueStore> {
  const { PostgresQueueStore } = await import('./postgres-queue-store')
  return PostgresQueueStore.open(url, options)
}

/** The file of a `sqlite:` URL, resolved against the working folder; CONFIG_INVALID when it names none. */
export function sqlitePath(url: string): string {
  let file = url.slice('sqlite:'.length)
  if (file.startsWith('//')) file = file.slice(2)
  if (file === '' || file === ':memory:') {
    throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: sqlite: needs a file path (an in-memory database would lose what it acknowledged); it takes ${TAKES}`)
  }
  return path.resolve(file)
}
