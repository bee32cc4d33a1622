import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { Client } from 'pg'
import { openQueueStore } from '../../src/queue/open-queue-store'
import { entryBytes, type QueueStore } from '../../src/queue/queue-store'
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../queue/postgres-test-schema'
import { settableClock, trackOf } from '../queue/queue-fixtures'
import { tempDir } from '../support/temp-dir'

const ROOT = path.join(__dirname, '..', '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')

/** Runs the real CLI as an operator would; QUEUE_URL only when `queueUrl` is given, whatever the test runner's environment holds. */
function cli(args: string[], queueUrl?: string) {
  const env = { ...process.env }
  delete env.QUEUE_URL
  if (queueUrl !== undefined) env.QUEUE_URL = queueUrl
  const run = spawnSync(process.execPath, [BIN, 'queue', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

/** `queue status --json` of `url`, parsed. */
function statusOf(url: string) {
  const run = cli(['status', '--json', '--queue', url])
  expect(run.status, run.stderr).to.equal(0)
  return JSON.parse(run.stdout) as {
    store: string
    depth: number
    bytes: number
    deadLetters: number
    oldestAgeMs: number
    workspaces: Array<{ workspace: string; depth: number; bytes: number; oldestAgeMs: number; deadLetters: number; paused: boolean; pausedReason?: string }>
  }
}

/** How long ago the filled entries were stored: long enough that the age printed ("2d 3h") cannot change while a test runs. */
const AGE_MS = (2 * 24 + 3) * 3_600_000 + 30_000
const REFUSED = '400 invalid_request: events[0].email carol@example.com is not allowed'

/**
 * Fills a store through its API, as the doors and the deliverer would: acme has four entries
 * waiting (ada x3, bob) and carol's dead letter; beta has dave's dead letter and is paused.
 * Returns the bytes of what waits.
 */
async function fill(store: QueueStore, now: number): Promise<number> {
  const waiting = [trackOf('ada@example.com', 1), trackOf('ada@example.com', 2), trackOf('ada@example.com', 3), trackOf('bob@example.com', 4)]
  await store.append('acme', [...waiting, trackOf('carol@example.com', 9)])
  await store.append('beta', [trackOf('dave@example.com', 5)])
  const leased = await store.lease('test', { maxPeople: 10, maxPerKind: 30, leaseMs: 60_000, now })
  const ids = (email: string) => leased.filter((person) => person.key.includes(email)).flatMap((person) => person.entries.map((entry) => entry.id))
  await store.deadLetter('test', ids('carol@example.com'), REFUSED)
  await store.deadLetter('test', ids('dave@example.com'), '400 invalid_request: event is required')
  await store.pauseWorkspace('beta', '401 unauthorized: Koala refused the key')
  return waiting.reduce((sum, entry) => sum + entryBytes(entry), 0)
}

describe('koala-adapter queue', function () {
  this.timeout(120_000)
  let url: string
  let waitingBytes: number

  beforeEach(async () => {
    url = `sqlite:${path.join(tempDir('queue-cli-'), 'queue.db')}`
    const clock = settableClock(Date.now() - AGE_MS)
    const store = await openQueueStore(url, { now: clock.now })
    waitingBytes = await fill(store, clock.now())
    await store.close()
  })

  it('status: depth, oldest age, bytes, dead letters and pauses per workspace, then totals', () => {
    const status = statusOf(url)
    expect(status).to.deep.include({ store: 'sqlite', depth: 4, bytes: waitingBytes, deadLetters: 2 })
    expect(status.oldestAgeMs).to.be.within(AGE_MS, AGE_MS + 600_000)
    const [acme, beta] = status.workspaces
    expect(acme).to.deep.include({ workspace: 'acme', depth: 4, bytes: waitingBytes, deadLetters: 1, paused: false })
    expect(acme.oldestAgeMs).to.be.within(AGE_MS, AGE_MS + 600_000)
    expect(beta).to.deep.equal({ workspace: 'beta', depth: 0, bytes: 0, oldestAgeMs: 0, deadLetters: 1, paused: true, pausedReason: '401 unauthorized: Koala refused the key' })

    const human = cli(['status'], url)
    expect(human.status, human.stderr).to.equal(0)
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines[0]).to.equal('queue: sqlite, 2 workspaces')
    expect(lines[1]).to.match(/^workspace\s+depth\s+oldest\s+bytes\s+dead letters\s+paused$/)
    expect(lines[2]).to.match(/^acme\s+4\s+2d 3h\s+\d+ B\s+1\s+no$/)
    expect(lines[3]).to.match(/^beta\s+0\s+-\s+0 B\s+1\s+yes: 401 unauthorized: Koala refused the key$/)
    expect(lines[4]).to.match(/^total\s+4\s+2d 3h\s+\d+ B\s+2\s+1$/)
  })

  it('dead-letters: oldest first, with Koala\'s answer, and no email anywhere unless --show-entries', () => {
    const human = cli(['dead-letters', '--queue', url])
    expect(human.status, human.stderr).to.equal(0)
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines[0]).to.match(/^id\s+workspace\s+endpoint\s+kind\s+message_id\s+attempts\s+dead since\s+reason$/)
    expect(lines[1]).to.match(/^5\s+acme\s+batch\s+events\s+m9\s+0\s+\S+Z \(2d 3h ago\)\s+400 invalid_request: events\[0\]\.email \[email\] is not allowed$/)
    expect(lines[2]).to.match(/^6\s+beta\s+batch\s+events\s+m5\s+0\s+.*400 invalid_request: event is required$/)
    expect(lines[3]).to.equal('2 dead letters')
    expect(human.stdout).not.to.contain('@example.com')

    const json = JSON.parse(cli(['dead-letters', '--json', '--queue', url]).stdout)
    expect(json.total).to.equal(2)
    expect(json.deadLetters.map((letter: { messageId: string }) => letter.messageId)).to.deep.equal(['m9', 'm5'])
    expect(json.deadLetters[0]).to.have.keys('id', 'workspace', 'endpoint', 'kind', 'messageId', 'attempts', 'enqueuedAt', 'deadAt', 'reason')
    expect(JSON.stringify(json)).not.to.contain('@example.com')

    const one = cli(['dead-letters', '--limit', '1', '--queue', url])
    expect(one.stdout.trimEnd().split('\n').slice(1)).to.have.length(2)
    expect(one.stdout).to.contain('1 of 2 dead letters shown; --limit N shows more')
    const beta = JSON.parse(cli(['dead-letters', '--workspace', 'beta', '--json', '--queue', url]).stdout)
    expect(beta.total).to.equal(1)
    expect(beta.deadLetters.map((letter: { workspace: string }) => letter.workspace)).to.deep.equal(['beta'])

    const shown = JSON.parse(cli(['dead-letters', '--show-entries', '--json', '--limit', '1', '--queue', url]).stdout)
    expect(shown.deadLetters[0]).to.deep.include({ who: { email: 'carol@example.com' }, entry: { type: 'track', event: 'e9', message_id: 'm9' }, bodyFields: { traits: { plan: 'pro' } }, reason: REFUSED })
    expect(cli(['dead-letters', '--show-entries', '--queue', url]).stdout).to.contain('    who: {"email":"carol@example.com"}')
    expect(cli(['dead-letters', '--limit', '0', '--queue', url]).status).to.equal(2)
  })

  it('retry: moves dead letters back to the queue, one workspace or all, and says how many', () => {
    const beta = cli(['retry', '--workspace', 'beta', '--queue', url])
    expect(beta.status, beta.stderr).to.equal(0)
    expect(beta.stdout).to.equal('1 dead letter of workspace beta put back in the queue\n')
    let status = statusOf(url)
    expect(status).to.deep.include({ depth: 5, deadLetters: 1 })
    expect(status.workspaces.map((w) => [w.workspace, w.depth, w.deadLetters])).to.deep.equal([
      ['acme', 4, 1],
      ['beta', 1, 0]
    ])
    expect(cli(['retry', '--queue', url]).stdout).to.equal('1 dead letter put back in the queue\n')
    status = statusOf(url)
    expect(status).to.deep.include({ depth: 6, deadLetters: 0 })
    expect(cli(['retry', '--queue', url]).stdout).to.equal('0 dead letters put back in the queue\n')
  })

  it('purge: refuses without --yes (exit 2), saying what it would delete; deletes with it', () => {
    const refused = cli(['purge', '--workspace', 'acme', '--queue', url])
    expect(refused.status).to.equal(2)
    expect(refused.stdout).to.equal('')
    expect(refused.stderr).to.equal('koala-adapter: queue purge would delete 4 waiting entries and 1 dead letter of workspace acme; nothing deleted: add --yes to delete them\n')
    expect(statusOf(url)).to.deep.include({ depth: 4, deadLetters: 2 })

    const purged = cli(['purge', '--workspace', 'acme', '--yes', '--queue', url])
    expect(purged.status, purged.stderr).to.equal(0)
    expect(purged.stdout).to.equal('workspace acme: deleted 4 waiting entries and 1 dead letter\n')
    const status = statusOf(url)
    expect(status).to.deep.include({ depth: 0, bytes: 0, deadLetters: 1 })
    expect(status.workspaces.map((w) => w.workspace)).to.deep.equal(['beta'])
    expect(cli(['purge', '--yes', '--queue', url]).status, 'no --workspace').to.equal(2)
  })

  it('dead-letters: masks emails in a message_id and prints its control characters as \\uXXXX, unless --show-entries', async () => {
    const store = await openQueueStore(url)
    const sneaky = { ...trackOf('eve@example.com', 7), messageId: 'eve@example.com\u001b[2J' }
    await store.append('acme', [sneaky])
    const [leased] = (await store.lease('test', { maxPeople: 10, maxPerKind: 30, leaseMs: 60_000 })).filter((person) => person.key.includes('eve@'))
    await store.deadLetter('test', leased.entries.map((entry) => entry.id), '400 invalid_request')
    await store.close()

    const human = cli(['dead-letters', '--queue', url])
    expect(human.status, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/\s\[email\]\\u001b\[2J\s/).and.not.contain('@example.com').and.not.contain('\u001b')
    const json = JSON.parse(cli(['dead-letters', '--json', '--queue', url]).stdout)
    expect(json.deadLetters.map((letter: { messageId: string }) => letter.messageId)).to.include('[email]\\u001b[2J')
    const shown = JSON.parse(cli(['dead-letters', '--json', '--show-entries', '--queue', url]).stdout)
    expect(shown.deadLetters.map((letter: { messageId: string }) => letter.messageId)).to.include('eve@example.com\u001b[2J')
  })

  it('takes QUEUE_URL; without it or --queue, or with a URL naming no queue, exits 2 with one line', () => {
    expect(JSON.parse(cli(['status', '--json'], url).stdout).depth).to.equal(4)

    const missing = cli(['status'])
    expect(missing.status).to.equal(2)
    expect(missing.stderr).to.equal('koala-adapter: no queue to operate: give --queue URL or set QUEUE_URL (sqlite:PATH or postgres://USER@HOST:PORT/DATABASE)\n')
    for (const command of [['dead-letters'], ['retry'], ['purge', '--workspace', 'acme', '--yes']]) expect(cli(command).status, command[0]).to.equal(2)

    const wrong = cli(['status', '--queue', 'mysql://root:hunter2secret@db/queue'])
    expect(wrong.status).to.equal(2)
    expect(wrong.stderr).to.contain('koala-adapter: QUEUE_URL has the scheme "mysql:"').and.not.contain('hunter2secret')
    const refused = cli(['status'], 'postgres://postgres:hunter2secret@127.0.0.1:5432/no_such_database_here')
    expect(refused.status).to.equal(2)
    expect(refused.stderr).to.match(/^koala-adapter: QUEUE_URL: cannot use the queue's PostgreSQL database: .*\n$/).and.not.contain('hunter2secret')

    const typo = path.join(path.dirname(url.slice('sqlite:'.length)), 'typo.db')
    const absent = cli(['status', '--queue', `sqlite:${typo}`])
    expect(absent.status).to.equal(2)
    expect(absent.stderr).to.contain(`no SQLite queue at ${typo}`)
  })
})

describe('koala-adapter queue on PostgreSQL', function () {
  this.timeout(120_000)
  const schema = freshSchemaName()
  after(() => dropSchema(schema))

  it('status reads the schema ?schema= names', async () => {
    const clock = settableClock(Date.now() - AGE_MS)
    const store = await openQueueStore(TEST_DATABASE_URL, { schema, now: clock.now })
    const bytes = await fill(store, clock.now())
    await store.close()
    const status = statusOf(`${TEST_DATABASE_URL}?schema=${schema}`)
    expect(status).to.deep.include({ store: 'postgres', depth: 4, bytes, deadLetters: 2 })
    expect(status.workspaces.map((w) => [w.workspace, w.depth, w.deadLetters, w.paused])).to.deep.equal([
      ['acme', 4, 1, false],
      ['beta', 0, 1, true]
    ])
  })

  it('refuses a schema without the queue\'s tables (a typo in ?schema=), exit 2, and creates none', async () => {
    const typo = freshSchemaName()
    const refused = cli(['status', '--queue', `${TEST_DATABASE_URL}?schema=${typo}`])
    expect(refused.status).to.equal(2)
    expect(refused.stderr).to.contain(`no queue tables in schema ${typo} of that database: is the URL or ?schema= right?`)
    const check = new Client({ connectionString: TEST_DATABASE_URL })
    await check.connect()
    try {
      expect((await check.query('SELECT to_regnamespace($1) AS found', [typo])).rows[0].found).to.equal(null)
    } finally {
      await check.end()
    }
  })
})
