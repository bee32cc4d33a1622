import { spawn } from 'node:child_process'
import path from 'node:path'
import { expect } from 'chai'
import { tempDir } from '../support/temp-dir'

const ROOT = path.join(__dirname, '..', '..')

/**
 * Runs `script` in a fresh Node (this test's own version) with a 1 MB young generation, so that V8
 * collects young objects many times a second (with the default size the abort below came in 3 runs
 * of 6); resolves its exit code, signal and stderr.
 */
function runNode(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--max-semi-space-size=1', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })))
}

/**
 * Runs, in a fresh Node, `rounds` rounds of: open a store with `open` (JavaScript of `dir`,
 * `round`, `SqliteQueueStore` and `openQueueStore`, awaited), every `useEvery`-th round append
 * two entries, lease and acknowledge them, then close it; expects that Node to end cleanly.
 */
async function expectCleanRounds(rounds: number, open: string, useEvery: number): Promise<void> {
  const dir = tempDir('queue-sqlite-lifetime-')
  const source = (file: string) => JSON.stringify(path.join(ROOT, 'src', ...file.split('/')))
  const script = `
    require(${source('swc-hook.js')})
    const path = require('node:path')
    const { SqliteQueueStore } = require(${source('queue/sqlite-queue-store.ts')})
    const { openQueueStore } = require(${source('queue/open-queue-store.ts')})
    const { renderEntry } = require(${source('koala/rendered-request.ts')})
    const dir = ${JSON.stringify(dir)}
    const entry = (n) => renderEntry({ endpoint: 'batch', person: { email: 'ann@example.com' }, kind: 'events', entry: { type: 'track', event: 'e' + n, message_id: 'm' + n } })
    async function main() {
      for (let round = 0; round < ${rounds}; round++) {
        const store = await (${open})
        if (round % ${useEvery} === 0) {
          await store.append('acme', [entry(round), entry(round + 1)])
          for (const person of await store.lease('run', { maxPeople: 4, maxPerKind: 30, leaseMs: 60000 })) {
            await store.ack('run', person.entries.map((e) => e.id))
          }
          if ((await store.status()).depth !== 0) throw new Error('not delivered')
        }
        await store.close()
      }
    }
    main().then(() => process.stderr.write('done\\n'), (error) => { console.error(error); process.exit(3) })`
  const { code, signal, stderr } = await runNode(script)
  expect({ code, signal }, stderr).to.deep.equal({ code: 0, signal: null })
  expect(stderr).to.contain('done')
}

describe('the SQLite queue store in a process that runs for long', () => {
  // better-sqlite3 built against Node 24.19 or later aborts the process (SIGABRT, "Assertion failed:
  // (env) != nullptr") when V8 collects one of its objects in a collection that runs outside any
  // JavaScript context. A queue mode service opens its store once and runs for weeks; the tests
  // open hundreds. Neither may ever give better-sqlite3 an object to collect.
  it('opens, uses and closes stores thousands of times and exits cleanly, collections and all', async function () {
    this.timeout(120_000)
    await expectCleanRounds(2000, "new SqliteQueueStore(path.join(dir, 'queue-' + (round % 4) + '.db'), { soleDeliverer: round % 2 === 0 })", 100)
  })

  it('opens, uses and closes the store in its own thread, as the service does, many times, and exits cleanly', async function () {
    this.timeout(120_000)
    await expectCleanRounds(30, "openQueueStore('sqlite:' + path.join(dir, 'queue.db'), { soleDeliverer: true })", 1)
  })
})
