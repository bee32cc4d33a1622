import { AdapterError } from '../errors'
import type { DeadLetter, QueueStatus, QueueStore } from '../queue/queue-store'
import { maskEmails } from '../json/mask-emails'
import { openOperatedQueue, queueUrl } from './queue-url'
import { bytesText, countText, durationText, tableLines } from './queue-text'

export type QueueOptions = { queue?: string }
export type QueueStatusOptions = QueueOptions & { json?: boolean }
export type DeadLettersOptions = QueueOptions & { workspace?: string; limit?: number; json?: boolean; showEntries?: boolean }
export type RetryOptions = QueueOptions & { workspace?: string }
export type PurgeOptions = QueueOptions & { workspace: string; yes?: boolean }

/** Dead letters listed when --limit is not given: a screenful or two, not a whole outage. */
export const DEFAULT_DEAD_LETTER_LIMIT = 100

type Out = (line: string) => void

/** Opens the queue the options name, runs `work` on it, and closes it, whatever `work` does. */
async function withQueue<T>(options: QueueOptions, env: NodeJS.ProcessEnv, work: (store: QueueStore) => Promise<T>): Promise<T> {
  const store = await openOperatedQueue(queueUrl(options.queue, env))
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}

/**
 * `koala-adapter queue status`: per workspace the entries waiting, the oldest's age, their
 * bytes, dead letters and whether delivery is paused (and why), then the totals.
 */
export async function runQueueStatus(options: QueueStatusOptions, out: Out, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await withQueue(options, env, async (store) => {
    const status = await store.status()
    if (options.json === true) out(JSON.stringify(statusJson(store.kind, status)))
    else for (const line of statusLines(store.kind, status)) out(line)
  })
}

function statusJson(kind: QueueStore['kind'], status: QueueStatus): object {
  const workspaces = status.workspaces.map((w) => ({ ...w, ...(w.pausedReason === undefined ? {} : { pausedReason: maskEmails(w.pausedReason) }) }))
  const oldestAgeMs = Math.max(0, ...status.workspaces.map((w) => w.oldestAgeMs))
  return { store: kind, workspaces, depth: status.depth, oldestAgeMs, bytes: status.bytes, deadLetters: status.deadLetters }
}

function statusLines(kind: QueueStore['kind'], status: QueueStatus): string[] {
  const age = (depth: number, ms: number) => (depth === 0 ? '-' : durationText(ms))
  const rows = status.workspaces.map((w) => [
    w.workspace,
    String(w.depth),
    age(w.depth, w.oldestAgeMs),
    bytesText(w.bytes),
    String(w.deadLetters),
    w.paused ? `yes: ${maskEmails(w.pausedReason ?? '')}` : 'no'
  ])
  const oldest = Math.max(0, ...status.workspaces.map((w) => w.oldestAgeMs))
  const paused = status.workspaces.filter((w) => w.paused).length
  rows.push(['total', String(status.depth), age(status.depth, oldest), bytesText(status.bytes), String(status.deadLetters), String(paused)])
  return [`queue: ${kind}, ${countText(status.workspaces.length, 'workspace', 'workspaces')}`, ...tableLines(['workspace', 'depth', 'oldest', 'bytes', 'dead letters', 'paused'], rows)]
}

/**
 * `koala-adapter queue dead-letters`: dead letters, oldest first, with Koala's answer. Who
 * they are about and what they hold (emails, traits) only with --show-entries; any email in
 * a reason is masked without it.
 */
export async function runQueueDeadLetters(options: DeadLettersOptions, out: Out, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const limit = options.limit ?? DEFAULT_DEAD_LETTER_LIMIT
  await withQueue(options, env, async (store) => {
    const letters = await store.listDeadLetters({ workspace: options.workspace, limit })
    const total = deadLetterCount(await store.status(), options.workspace)
    const now = Date.now()
    const shown = letters.map((letter) => deadLetterJson(letter, options.showEntries === true))
    if (options.json === true) {
      out(JSON.stringify({ total, deadLetters: shown }))
      return
    }
    const rows = letters.map((letter, i) => [
      String(letter.id),
      letter.workspace,
      letter.endpoint,
      letter.kind,
      shown[i].messageId === undefined ? '-' : printable(shown[i].messageId),
      String(letter.attempts),
      `${shown[i].deadAt} (${durationText(now - letter.deadAt)} ago)`,
      shown[i].reason
    ])
    const lines = tableLines(['id', 'workspace', 'endpoint', 'kind', 'message_id', 'attempts', 'dead since', 'reason'], rows)
    out(lines[0])
    lines.slice(1).forEach((line, i) => {
      out(line)
      if (options.showEntries === true) for (const [label, value] of entryFields(shown[i])) out(`    ${label}: ${JSON.stringify(value)}`)
    })
    const where = options.workspace === undefined ? '' : ` in workspace ${options.workspace}`
    out(letters.length < total ? `${letters.length} of ${total} dead letters${where} shown; --limit N shows more` : `${countText(total, 'dead letter', 'dead letters')}${where}`)
  })
}

type DeadLetterJson = {
  id: number
  workspace: string
  endpoint: string
  kind: string
  messageId?: string
  attempts: number
  enqueuedAt: string
  deadAt: string
  reason: string
  who?: unknown
  entry?: unknown
  bodyFields?: unknown
}

/**
 * `text` with control characters written as \uXXXX: a message_id is the sender's text, and a
 * terminal would act on an escape sequence in it.
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A dead letter as printed: its person and entry only when asked for, its message_id and reason masked unless they are. */
function deadLetterJson(letter: DeadLetter, showEntries: boolean): DeadLetterJson {
  const shown: DeadLetterJson = {
    id: letter.id,
    workspace: letter.workspace,
    endpoint: letter.endpoint,
    kind: letter.kind,
    ...(letter.messageId === undefined ? {} : { messageId: showEntries ? letter.messageId : maskEmails(printable(letter.messageId)) }),
    attempts: letter.attempts,
    enqueuedAt: new Date(letter.enqueuedAt).toISOString(),
    deadAt: new Date(letter.deadAt).toISOString(),
    reason: showEntries ? letter.reason : maskEmails(letter.reason)
  }
  if (!showEntries) return shown
  // The key is the endpoint followed by the JSON of who (who.ts); body fields are JSON without braces (rendered-request.ts).
  shown.who = JSON.parse(letter.key.slice(letter.key.indexOf('{')))
  shown.entry = JSON.parse(letter.text)
  if (letter.bodyFields !== undefined) shown.bodyFields = JSON.parse(`{${letter.bodyFields}}`)
  return shown
}

function entryFields(shown: DeadLetterJson): Array<[string, unknown]> {
  const fields: Array<[string, unknown]> = [['who', shown.who], ['entry', shown.entry]]
  if (shown.bodyFields !== undefined) fields.push(['body fields', shown.bodyFields])
  return fields
}

function deadLetterCount(status: QueueStatus, workspace: string | undefined): number {
  if (workspace === undefined) return status.deadLetters
  return status.workspaces.find((w) => w.workspace === workspace)?.deadLetters ?? 0
}

/** `koala-adapter queue retry`: puts dead letters (of one workspace, or all) back in the queue, each in its person's order. */
export async function runQueueRetry(options: RetryOptions, out: Out, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await withQueue(options, env, async (store) => {
    const moved = await store.retryDeadLetters({ workspace: options.workspace })
    const where = options.workspace === undefined ? '' : ` of workspace ${options.workspace}`
    out(`${countText(moved, 'dead letter', 'dead letters')}${where} put back in the queue`)
  })
}

/**
 * `koala-adapter queue purge --workspace NAME --yes`: deletes the workspace's waiting
 * entries and dead letters. Without --yes, USAGE (exit 2) saying what it would delete.
 */
export async function runQueuePurge(options: PurgeOptions, out: Out, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await withQueue(options, env, async (store) => {
    if (options.yes !== true) {
      const held = (await store.status()).workspaces.find((w) => w.workspace === options.workspace)
      const what = purgedText({ entries: held?.depth ?? 0, deadLetters: held?.deadLetters ?? 0 })
      throw new AdapterError('USAGE', `queue purge would delete ${what} of workspace ${options.workspace}; nothing deleted: add --yes to delete them`)
    }
    const purged = await store.purge({ workspace: options.workspace })
    out(`workspace ${options.workspace}: deleted ${purgedText(purged)}`)
  })
}

function purgedText(counts: { entries: number; deadLetters: number }): string {
  return `${countText(counts.entries, 'waiting entry', 'waiting entries')} and ${countText(counts.deadLetters, 'dead letter', 'dead letters')}`
}
