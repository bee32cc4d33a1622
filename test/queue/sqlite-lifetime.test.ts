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

describe('the SQLite queue store in a process that runs for long', () => {
  // better-sqlite3 built against Node 24.19 or later aborts the process (SIGABRT, "Assertion failed:
  // (env) != nullptr") when V8 collects one of its objects in a collection that runs outside any
  // JavaScript context. A queue mode service opens its store once and runs for weeks; the tests
  // open hundreds. Neither may ever give better-sqlite3 an object to collect.
  it('opens, uses and closes stores thousands of times and exits cleanly, collections and all', async function () {
    this.timeout(120_000)
    const dir = tempDir('queue-sqlite-lifetime-')
    const script = `
      require(${JSON.stringify(path.join(ROOT, 'src', 'swc-hook.js'))})
      const path = require('node:path')
      const { SqliteQueueStore } = require(${JSON.stringify(path.join(ROOT, 'src', 'queue', 'sqlite-queue-store.ts'))})
      const { renderEntry } = require(${JSON.stringify(path.join(ROOT, 'src', 'koala', 'rendered-request.ts'))})
      const entry = (n) => renderEntry({ endpoint: 'batch', person: { email: 'ann@example.com' }, kind: 'events', entry: { type: 'track', event: 'e' + n, message_id: 'm' + n } })
      async function main() {
        for (let round = 0; round < 2000; round++) {
          const store = new SqliteQueueStore(path.join(${JSON.stringify(dir)}, 'queue-' + (round % 4) + '.db'), { soleDeliverer: round % 2 === 0 })
          if (round % 100 === 0) {
            await store.append('acme', [entry(round), entry(round + 1)])
            for (const person of await store.lease('run', { maxPeople: 4, maxPerKind: 30, leaseMs: 60000 })) {
              await store.ack('run', person.entries.map((e) => e.id))
            }
            await store.status()
          }
          await store.close()
        }
      }
      main().then(() => process.stderr.write('done\\n'), (error) => { console.error(error); process.exit(3) })`
    const { code, signal, stderr } = await runNode(script)
    expect({ code, signal }, stderr).to.deep.equal({ code: 0, signal: null })
    expect(stderr).to.contain('done')
  })

  it('opens, uses and closes the store in its own thread, as the service does, many times, and exits cleanly', async function () {
    this.timeout(120_000)
    const dir = tempDir('queue-sqlite-lifetime-')
    const script = `
      require(${JSON.stringify(path.join(ROOT, 'src', 'swc-hook.js'))})
      const path = require('node:path')
      const { openQueueStore } = require(${JSON.stringify(path.join(ROOT, 'src', 'queue', 'open-queue-store.ts'))})
      const { renderEntry } = require(${JSON.stringify(path.join(ROOT, 'src', 'koala', 'rendered-request.ts'))})
      const entry = (n) => renderEntry({ endpoint: 'batch', person: { email: 'ann@example.com' }, kind: 'events', entry: { type: 'track', event: 'e' + n, message_id: 'm' + n } })
      async function main() {
        for (let round = 0; round < 30; round++) {
          const store = await openQueueStore('sqlite:' + path.join(${JSON.stringify(dir)}, 'queue.db'), { soleDeliverer: true })
          await store.append('acme', [entry(round), entry(round + 1)])
          for (const person of await store.lease('run', { maxPeople: 4, maxPerKind: 30, leaseMs: 60000 })) {
            await store.ack('run', person.entries.map((e) => e.id))
          }
          if ((await store.status()).depth !== 0) throw new Error('not delivered')
          await store.close()
        }
      }
      main().then(() => process.stderr.write('done\\n'), (error) => { console.error(error); process.exit(3) })`
    const { code, signal, stderr } = await runNode(script)
    expect({ code, signal }, stderr).to.deep.equal({ code: 0, signal: null })
    expect(stderr).to.contain('done')
  })
})
