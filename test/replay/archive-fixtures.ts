import { tempDir as makeTempDir } from '../support/temp-dir'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

export const ROOT = path.join(__dirname, '..', '..')
export const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')
export const KOALA_KEY = 'pk_replay_test'
export const DAY_MS = 24 * 60 * 60 * 1000
/** 2026-11-01T00:00:00Z, the first received-day folder of the fixtures. */
export const DAY1 = Date.UTC(2026, 10, 1)

/** A Segment track call as an S3 archive line holds it. */
export function trackEvent(id: string, email: string, timestamp = new Date(DAY1 + 3600_000).toISOString(), extra: Record<string, unknown> = {}) {
  return {
    type: 'track',
    event: 'Viewed Docs',
    messageId: id,
    userId: `user-${email}`,
    timestamp,
    receivedAt: timestamp,
    properties: { n: id },
    context: { library: { name: 'analytics-node', version: '3.1.0' }, traits: { email } },
    ...extra
  }
}

export function ndjson(events: unknown[]): string {
  return events.map((event) => JSON.stringify(event)).join('\n') + '\n'
}

export function tempDir(prefix = 'replay-'): string {
  return makeTempDir(prefix)
}

/**
 * Writes `<root>/segment-logs/<source>/<dayMs>/<name>` as gzip; each element of
 * `members` becomes its own gzip member (several: a multi-member file). Returns the path.
 */
export function writeArchiveFile(root: string, source: string, dayMs: number, name: string, members: unknown[][]): string {
  const dir = path.join(root, 'segment-logs', source, String(dayMs))
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, name)
  writeFileSync(file, Buffer.concat(members.map((events) => gzipSync(ndjson(events)))))
  return file
}

export type CliRun = { status: number | null; stdout: string; stderr: string }

/** Runs the real CLI to its end. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): CliRun {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }
  })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

/** Runs the real CLI without blocking the event loop (a simulator in this process must keep answering). */
export function cliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

/** The message_ids of every entry the simulator accepted. */
export function messageIdsOf(requests: Array<{ body: unknown }>): string[] {
  const ids: string[] = []
  for (const { body } of requests) {
    for (const kind of ['events', 'identifies', 'page_views']) {
      const list = (body as Record<string, unknown>)[kind]
      if (Array.isArray(list)) for (const entry of list) ids.push((entry as { message_id: string }).message_id)
    }
  }
  return ids
}
