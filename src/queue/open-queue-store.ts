import path from 'node:path'
import { AdapterError } from '../errors'
import type { QueueStore } from './queue-store'
import type { QueueStoreOptions } from './queue-store-options'

/** What QUEUE_URL (or `--queue`) may name, for error messages. */
const TAKES = 'sqlite:PATH (a file) or postgres://USER@HOST:PORT/DATABASE'

/**
 * The store QUEUE_URL names: `sqlite:PATH` (PATH relative to the working folder, or
 * absolute; `sqlite:///abs/path` also works) or `postgres://…` / `postgresql://…`.
 * CONFIG_INVALID names what is wrong; the URL itself is never repeated, since a
 * PostgreSQL URL can hold a password. Each driver is loaded only when its scheme is used.
 */
export async function openQueueStore(url: string, options: QueueStoreOptions = {}): Promise<QueueStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  if (scheme === 'sqlite') {
    const file = sqlitePath(url)
    const { SqliteQueueStore } = await import('./sqlite-queue-store')
    return new SqliteQueueStore(file, options)
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    try {
      new URL(url)
    } catch {
      throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: not a valid ${scheme}:// URL; it takes ${TAKES}`)
    }
    const { PostgresQueueStore } = await import('./postgres-queue-store')
    return PostgresQueueStore.open(url, options)
  }
  const named = scheme === undefined ? 'has no scheme' : `has the scheme "${scheme}:", which the queue does not take`
  throw new AdapterError('CONFIG_INVALID', `QUEUE_URL ${named}; it takes ${TAKES}`)
}

/** The file of a `sqlite:` URL, resolved against the working folder. */
function sqlitePath(url: string): string {
  let file = url.slice('sqlite:'.length)
  if (file.startsWith('//')) file = file.slice(2)
  if (file === '' || file === ':memory:') {
    throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: sqlite: needs a file path (an in-memory database would lose what it acknowledged); it takes ${TAKES}`)
  }
  return path.resolve(file)
}
