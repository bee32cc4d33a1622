import { expect } from 'chai'
import { Client } from 'pg'
import { AdapterError } from '../../src/errors'
import { PostgresQueueStore } from '../../src/queue/postgres-queue-store'
import { until } from '../support/until'
import { TEST_DATABASE_URL, usePostgresStores } from './postgres-test-schema'
import { trackOf } from './queue-fixtures'

/** The PostgreSQL store among other replicas and sessions: bad rows, held locks, live leases, clocks. */
describe('the PostgreSQL queue store under contention', () => {
  const { open, freshSchema, beforeCleanup } = usePostgresStores()
  const clients: Client[] = []
  beforeCleanup(async () => {
    for (const client of clients.splice(0)) await client.end()
  })
  /** A session of the test's own: another replica's hand on the tables, holding what it locks until it ends. */
  const session = async () => {
    const client = new Client({ connectionString: TEST_DATABASE_URL })
    await client.connect()
    clients.push(client)
    return client
  }
  /** True once a statement on `schema`'s tables waits for a lock (blocked behind the test's session). */
  const someoneWaits = async (watcher: Client, schema: string) =>
    (await watcher.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0", [schema])).rows.length > 0


  it('refuses only the append PostgreSQL refuses (a NUL in text), and stores the others sharing its commit', async () => {
    const store = await open({ schema: freshSchema() })
    const bad = { ...trackOf('bad@example.com', 0), messageId: 'm\u0000' }
    const results = await Promise.allSettled([store.append('acme', [trackOf('ann@example.com', 1)]), store.append('acme', [bad]), store.append('acme', [trackOf('bob@example.com', 2)])])
    expect(results.map((result) => result.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled'])
    expect(((results[1] as PromiseRejectedResult).reason as AdapterError).code).to.equal('QUEUE_WRITE_FAILED')
    expect((await store.status()).depth).to.equal(2)
  })

  it('fails a write that waits past the lock timeout with QUEUE_WRITE_FAILED', async () => {
    const schema = freshSchema()
    const store = await open({ schema, lockTimeoutMs: 200 })
    const other = await session()
    await other.query('BEGIN')
    await other.query(`SELECT * FROM "${schema}".queue_totals FOR UPDATE`)
    const refused = await store.append('acme', [trackOf('ann@example.com', 1)]).catch((reason: unknown) => reason)
    expect(refused).to.be.instanceOf(AdapterError).and.have.property('code', 'QUEUE_WRITE_FAILED')
    expect((refused as AdapterError).message).to.contain('55P03')
    await other.query('ROLLBACK')
    expect(await store.append('acme', [trackOf('ann@example.com', 2)])).to.have.length(1)
  })

  it('sweeps around a person another replica is leasing this moment, and leaves its lease and entries alone', async () => {
    const schema = freshSchema()
    let time = 1_000_000
    const sweeper = await open({ schema, now: () => time })
    await sweeper.append('acme', [trackOf('ann@example.com', 1)])
    await sweeper.append('acme', [trackOf('bob@example.com', 2)])
    time += 10_000
    // Another replica's lease of ann, not yet committed: the row is locked while the sweep runs.
    const replica = await session()
    await replica.query('BEGIN')
    await replica.query(`UPDATE "${schema}".queue_people SET owner = 'replica', expires_at = $1 WHERE who LIKE '%ann@%'`, [time + 60_000])
    const watcher = await session()
    const sweep = sweeper.sweepExpired(5_000)
    await Promise.race([sweep, until(() => someoneWaits(watcher, schema), { what: 'the sweep blocked behind the lease' })])
    await replica.query('COMMIT')
    expect(await sweep, 'only bob swept').to.equal(1)
    const people = await watcher.query(`SELECT who, owner FROM "${schema}".queue_people`)
    expect(people.rows.map((row: { owner: string }) => row.owner)).to.deep.equal(['replica'])
    expect((await sweeper.status()).depth).to.equal(1)
  })

  it('opens on existing tables without DDL, so a writer holding its table lock does not stall it', async () => {
    const schema = freshSchema()
    await (await PostgresQueueStore.open(TEST_DATABASE_URL, { schema })).close()
    const writer = await session()
    await writer.query('BEGIN')
    await writer.query(`INSERT INTO "${schema}".queue_paused (workspace, reason, paused_at) VALUES ('w', 'r', 1)`)
    await writer.query(`LOCK TABLE "${schema}".queue_entries IN ROW EXCLUSIVE MODE`)
    const reopened = await open({ schema, lockTimeoutMs: 200 })
    expect((await reopened.status()).depth).to.equal(0)
    await writer.query('ROLLBACK')
  })

  it('refuses to open a schema without the queue\'s tables when told not to create them, and creates nothing', async () => {
    const schema = freshSchema()
    const refused = await open({ schema, create: false }).catch((reason: unknown) => reason)
    expect(refused).to.be.instanceOf(AdapterError).and.have.property('code', 'CONFIG_INVALID')
    expect((refused as AdapterError).message).to.contain(`no queue tables in schema ${schema}`)
    const check = await session()
    expect((await check.query('SELECT to_regnamespace($1) AS found', [schema])).rows[0].found).to.equal(null)
  })

  it('uses the database\'s clock, not the replica\'s, when given none', async () => {
    const check = await session()
    const databaseNow = async () => Number((await check.query('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now')).rows[0].now)
    const realNow = Date.now
    const before = await databaseNow()
    // This replica's clock runs an hour behind the database's (from before it opens: its default clock is Date.now).
    Date.now = () => realNow() - 3_600_000
    try {
      const store = await open({ schema: freshSchema() })
      await store.append('acme', [trackOf('ann@example.com', 1)])
      const [leased] = await store.lease('a', { maxPeople: 1, maxPerKind: 30, leaseMs: 60_000 })
      const after = await databaseNow()
      expect(leased.entries[0].enqueuedAt).to.be.within(before, after)
      expect(leased.expiresAt - 60_000).to.be.within(before, after)
    } finally {
      Date.now = realNow
    }
  })
})
