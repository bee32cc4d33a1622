import { existsSync } from 'node:fs'
import { AdapterError } from '../errors'
import { openQueueStore, sqlitePath } from '../queue/open-queue-store'
import type { QueueStore } from '../queue/queue-store'

/**
 * The URL of the queue the `queue` commands operate: `--queue`, else QUEUE_URL, the same
 * URL `serve` takes. Read here from the environment until config.ts carries the setting.
 * USAGE naming both when neither is set.
 */
export function queueUrl(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = option ?? env.QUEUE_URL
  if (url === undefined || url === '') {
    throw new AdapterError('USAGE', 'no queue to operate: give --queue URL or set QUEUE_URL (sqlite:PATH or postgres://USER@HOST:PORT/DATABASE)')
  }
  return url
}

/**
 * Opens the queue `url` names. CONFIG_INVALID, never repeating the URL (it can hold a
 * password), when it names none; a `sqlite:` file that does not exist is one, and so is a
 * PostgreSQL schema without the queue's tables, since creating them would make an empty
 * queue and a typo would read as "nothing waiting".
 */
export async function openOperatedQueue(url: string): Promise<QueueStore> {
  if (/^sqlite:/i.test(url)) {
    const file = sqlitePath(url)
    if (!existsSync(file)) throw new AdapterError('CONFIG_INVALID', `QUEUE_URL: no SQLite queue at ${file} (the service creates it when it first starts in queue mode)`)
  }
  return openQueueStore(url, { create: false })
}
