import { expect } from 'chai'
import { hostname } from 'node:os'
import path from 'node:path'
import { openSqlite, type SqliteConnection } from '../../src/queue/sqlite-connection'
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store'
import { ThreadedSqliteQueueStore } from '../../src/queue/threaded-sqlite-queue-store'
import { tempDir } from '../support/temp-dir'
import { trackOf } from './queue-fixtures'
import { describeQueueStoreContract } from './queue-store-contract'

describe('the SQLite queue store', () => {
  describe('keeps the QueueStore contract', () => {
    describeQueueStoreContract(async (options) => new SqliteQueueStore(path.join(tempDir('queue-sqlite-'), 'queue.db'), options))
  })

  describe('keeps the QueueStore contract in a thread of its own, as the service runs it', () => {
    describeQueueStoreContract((options) => ThreadedSqliteQueueStore.open(path.join(tempDir('queue-sqlite-'), 'queue.db'), options))
  })

  const stores: SqliteQueueStore[] = []
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
  })
  const open = (file: string, soleDeliverer = false) => {
    const store = new SqliteQueueStore(file, { soleDeliverer })
    stores.push(store)
    return store
  }

  it('has an append on disk once it resolves: another store object on the file sees it, and so does one opened after close', async () => {
    const file = path.join(tempDir('queue-sqlite-'), 'queue.db')
    const writer = open(file)
    const ids = await writer.append('acme', [trackOf('ann@example.com', 1), trackOf('ann@example.com', 2)])
    const reader = open(file)
    expect((await reader.status()).depth).to.equal(2)
    const [leased] = await reader.lease('r', { maxPeople: 1, maxPerKind: 30, leaseMs: 1_000 })
    expect(leased.entries.map((entry) => entry.id)).to.deep.equal(ids)
    await writer.close()
    await reader.close()
    stores.length = 0
    expect((await open(file).status()).depth).to.equal(2)
  })

  it('as the sole deliverer, ends at open the leases a killed run left; the queue CLI (not the deliverer) leaves them alone', async () => {
    const file = path.join(tempDir('queue-sqlite-'), 'queue.db')
    const killed = open(file)
    await killed.append('acme', [trackOf('ann@example.com', 1)])
    expect(await killed.lease('dead-run', { maxPeople: 1, maxPerKind: 30, leaseMs: 60_000 })).to.have.length(1)
    // Another reader (the CLI) opening the file must not end a live service's leases.
    expect(await open(file).lease('cli', { maxPeople: 1, maxPerKind: 30, leaseMs: 60_000 })).to.deep.equal([])
    const restarted = open(file, true)
    expect(restarted.orphansReleased).to.equal(1)
    const [leased] = await restarted.lease('next-run', { maxPeople: 1, maxPerKind: 30, leaseMs: 60_000 })
    expect(leased.entries.map((entry) => entry.messageId)).to.deep.equal(['m1'])
    expect(leased.takenOver).to.equal(false)
  })

  it('lets one process deliver from a file: a live deliverer is named and refused, a dead one is taken over, a clean stop hands it on at once', async () => {
    const file = path.join(tempDir('queue-sqlite-'), 'queue.db')
    const claim = (host: string, pid: number, heartbeatAt: number) => {
      const { db, prepare } = openSqlite(file)
      prepare('INSERT OR REPLACE INTO queue_deliverer (id, host, pid, heartbeat_at) VALUES (1, ?, ?, ?)').run(host, pid, heartbeatAt)
      db.close()
    }
    await open(file, true).close()
    stores.length = 0
    // The test runner's parent process is alive on this host: a second service while the first runs.
    claim(hostname(), process.ppid, Date.now())
    expect(() => new SqliteQueueStore(file, { soleDeliverer: true })).to.throw(`another service (pid ${process.ppid}) delivers from the SQLite queue ${file}`)
    // Another host (a container on a shared volume) is alive while its heartbeat is fresh, and gone after.
    claim('other-host', 1, Date.now())
    expect(() => new SqliteQueueStore(file, { soleDeliverer: true })).to.throw('(pid 1 on other-host)')
    claim('other-host', 1, Date.now() - 121_000)
    await open(file, true).close()
    // A pid no process has: a killed service; its claim is taken over.
    claim(hostname(), 2 ** 22 + 7, Date.now())
    const next = open(file, true)
    await next.close()
    stores.length = 0
    const { db, prepare } = openSqlite(file)
    expect(prepare('SELECT COUNT(*) AS n FROM queue_deliverer').get(), 'a clean close gives the file up').to.deep.equal({ n: 0 })
    db.close()
  })

  it('runs in WAL mode and commits appends with synchronous=FULL, so an acknowledged append survives a power cut; other writes need not wait for the disk', async () => {
    const file = path.join(tempDir('queue-sqlite-'), 'queue.db')
    const store = open(file)
    // synchronous is a setting of the store's own connection: the statements that set it are watched there.
    const { db, prepare } = store as unknown as SqliteConnection
    const exec = db.exec.bind(db)
    const set: string[] = []
    db.exec = (source: string) => {
      if (source.includes('synchronous')) set.push(source)
      return exec(source)
    }
    const synchronous = prepare('PRAGMA synchronous').pluck()
    expect(synchronous.get(), 'NORMAL at rest').to.equal(1)
    await store.append('acme', [trackOf('ann@example.com', 1)])
    expect(set, 'the append commits with FULL').to.deep.equal(['PRAGMA synchronous = FULL', 'PRAGMA synchronous = NORMAL'])
    expect(synchronous.get(), 'NORMAL again').to.equal(1)
    set.length = 0
    const [leased] = await store.lease('r', { maxPeople: 1, maxPerKind: 30, leaseMs: 1_000 })
    await store.ack('r', leased.entries.map((entry) => entry.id))
    expect(set, 'a lease and an acknowledgement do not wait for the disk').to.deep.equal([])
    const other = openSqlite(file)
    try {
      expect(other.prepare('PRAGMA journal_mode').pluck().get()).to.equal('wal')
    } finally {
      other.db.close()
    }
  })

  it('rejects a group whose write SQLite refuses with QUEUE_WRITE_FAILED, stores nothing of it, and takes the next', async () => {
    const file = path.join(tempDir('queue-sqlite-'), 'queue.db')
    const store = open(file)
    // Another connection makes the database refuse one row, as a full disk refuses a page.
    const { db: other, prepare } = openSqlite(file)
    other.exec("CREATE TRIGGER refuse BEFORE INSERT ON queue_entries WHEN NEW.message_id = 'm2' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    const results = await Promise.allSettled([store.append('acme', [trackOf('ann@example.com', 1)]), store.append('acme', [trackOf('bob@example.com', 2)])])
    for (const result of results) {
      expect(result.status).to.equal('rejected')
      const error = (result as PromiseRejectedResult).reason as { code: string; message: string }
      expect(error.code).to.equal('QUEUE_WRITE_FAILED')
      expect(error.message).to.contain('refused by the test').and.not.contain('@example.com')
    }
    expect((await store.status()).depth).to.equal(0)
    expect(prepare('SELECT COUNT(*) AS n FROM queue_people').get()).to.deep.equal({ n: 0 })
    other.exec('DROP TRIGGER refuse')
    other.close()
    expect(await store.append('acme', [trackOf('ann@example.com', 3)])).to.have.length(1)
    expect((await store.status()).depth).to.equal(1)
  })
})
