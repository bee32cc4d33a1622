import { expect } from 'chai'
import { AdapterError } from '../../src/errors'
import { PostgresQueueStore } from '../../src/queue/postgres-queue-store'
import type { LeasedPerson } from '../../src/queue/queue-store'
import { runSql, TEST_DATABASE_URL, usePostgresStores } from './postgres-test-schema'
import { eventNames, trackOf } from './queue-fixtures'
import { describeQueueStoreContract } from './queue-store-contract'

describe('the PostgreSQL queue store', () => {
  const { open, freshSchema } = usePostgresStores()

  describe('keeps the QueueStore contract', () => {
    // The contract closes its stores; each gets a schema of its own, dropped by the afterEach above.
    describeQueueStoreContract((options) => PostgresQueueStore.open(TEST_DATABASE_URL, { ...options, schema: freshSchema() }))
  })

  it('never leases one person to two replicas at once, and delivers every entry once, in each person\'s order', async () => {
    const schema = freshSchema()
    const [one, two] = [await open({ schema }), await open({ schema })]
    const people = Array.from({ length: 12 }, (_, i) => `p${i}@example.com`)
    for (let n = 0; n < 4; n++) await Promise.all(people.map((email, i) => (i % 2 === 0 ? one : two).append('acme', [trackOf(email, n)])))
    const delivered = new Map<string, string[]>()
    const lease = { maxPeople: 3, maxPerKind: 2, leaseMs: 60_000 }
    for (let round = 0; round < 20 && [...delivered.values()].flat().length < 48; round++) {
      const leases = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 === 0 ? one : two).lease(`owner${i}`, lease).then((held) => held.map((person) => ({ owner: `owner${i}`, person })))))
      const held = leases.flat()
      const keys = held.map(({ person }) => person.key)
      expect(new Set(keys).size, `round ${round}: a person leased twice`).to.equal(keys.length)
      await Promise.all(
        held.map(({ owner, person }: { owner: string; person: LeasedPerson }) => {
          delivered.set(person.key, [...(delivered.get(person.key) ?? []), ...eventNames(person.entries)])
          return (owner.endsWith('0') || owner.endsWith('2') ? one : two).ack(owner, person.entries.map((entry) => entry.id))
        })
      )
    }
    expect(delivered.size).to.equal(12)
    for (const names of delivered.values()) expect(names).to.deep.equal(['e0', 'e1', 'e2', 'e3'])
    expect((await one.status()).depth).to.equal(0)
  })

  it('rejects an append the database refuses with QUEUE_WRITE_FAILED, naming no row, and stores nothing of it', async () => {
    const schema = freshSchema()
    const store = await open({ schema })
    await runSql(`ALTER TABLE "${schema}".queue_entries ADD CONSTRAINT refuse CHECK (message_id IS DISTINCT FROM 'm2') NOT VALID`)
    const refused = await store.append('acme', [trackOf('ann@example.com', 1), trackOf('ann@example.com', 2)]).catch((reason: unknown) => reason)
    expect(refused).to.be.instanceOf(AdapterError)
    expect((refused as AdapterError).code).to.equal('QUEUE_WRITE_FAILED')
    expect((refused as AdapterError).message).to.contain('refuse').and.not.contain('@example.com')
    expect((await store.status()).depth).to.equal(0)
    await runSql(`ALTER TABLE "${schema}".queue_entries DROP CONSTRAINT refuse`)
    expect(await store.append('acme', [trackOf('ann@example.com', 3)])).to.have.length(1)
    expect((await store.status()).depth).to.equal(1)
  })

  it('times a retry by the database\'s clock, as it times leases and linger, not by the replica\'s', async () => {
    const schema = freshSchema()
    const store = await open({ schema }) // no clock given: the database's
    await store.append('acme', [trackOf('ann@example.com', 1)])
    const [leased] = await store.lease('a', { maxPeople: 1, maxPerKind: 30, leaseMs: 60_000 })
    const dbNow = async () => Number((await runSql<{ now: string }>('SELECT (extract(epoch from now()) * 1000)::bigint AS now'))[0].now)
    const before = await dbNow()
    await store.retryLater('a', leased.entries.map((entry) => entry.id), 90_000, 'Koala answered 503')
    const after = await dbNow()
    const [{ next_attempt_at: at }] = await runSql<{ next_attempt_at: string }>(`SELECT next_attempt_at FROM "${schema}".queue_people`)
    expect(Number(at)).to.be.within(before + 90_000, after + 90_000)
  })

  it('refuses to open on a database it cannot reach with CONFIG_INVALID, without the password', async () => {
    const error = await PostgresQueueStore.open('postgres://postgres:hunter2secret@127.0.0.1:1/test').catch((reason: unknown) => reason)
    expect(error).to.be.instanceOf(AdapterError)
    expect((error as AdapterError).code).to.equal('CONFIG_INVALID')
    expect((error as AdapterError).message).to.match(/ECONNREFUSED/).and.not.contain('hunter2secret')
  })
})
