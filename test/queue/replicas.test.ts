import { expect } from 'chai'
import { Client } from 'pg'
import type { RunningProcess } from '../support/long-running-process'
import { until } from '../support/until'
import { deliveredEvents, metricOf, personEvent, sendWebhook, startQueueService, startSimulatorProcess } from './queue-processes'

const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

/** A fresh database for one test, dropped after it: replicas share it as production replicas share theirs. */
async function freshDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  }
}

describe('queue mode: two replicas on one PostgreSQL (real processes)', function () {
  this.timeout(120_000)

  it('one replica SIGKILLed mid-run: nothing acknowledged is lost, each person\'s order holds, duplicates only from leases taken over', async () => {
    const database = await freshDatabase(`queue_replicas_${process.pid}`)
    const sim = await startSimulatorProcess()
    const replicas: Array<RunningProcess & { url: string }> = []
    try {
      // Koala is slow, so the replica killed holds leases with requests in flight; its leases end 1.5 s after it dies (each request's budget is 0.7 s, under half a lease).
      await fetch(`${sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: 300, times: 40 }) })
      const env = { QUEUE_LEASE_MS: '1500', QUEUE_REQUEST_BUDGET_MS: '700' }
      const [a, b] = await Promise.all([startQueueService(database.url, sim.url, env), startQueueService(database.url, sim.url, env)])
      replicas.push(a, b)
      const people = 20
      const perPerson = 12
      const acknowledged: string[] = []
      // Each person's events are sent one after the other (the order to keep), to either replica in turn.
      const sendPerson = async (person: number) => {
        for (let seq = 0; seq < perPerson; seq++) {
          const event = personEvent(person, seq, 'replicas')
          const target = a.child.signalCode === null && (person + seq) % 2 === 0 ? a : b
          let status = await sendWebhook(target.url, event)
          // The killed replica's connection failed: Segment sends the event again, to a replica alive.
          if (status === 0) status = await sendWebhook(b.url, event)
          expect(status, `event ${person}/${seq}`).to.equal(200)
          acknowledged.push(event.messageId as string)
          if (person === 0 && seq === perPerson / 2) a.child.kill('SIGKILL')
        }
      }
      await Promise.all(Array.from({ length: people }, (_, person) => sendPerson(person)))
      expect(acknowledged).to.have.length(people * perPerson)

      let delivered: Awaited<ReturnType<typeof deliveredEvents>> = []
      await until(
        async () => {
          delivered = await deliveredEvents(sim.url)
          return acknowledged.every((id) => delivered.some((event) => event.messageId === id))
        },
        { what: 'every acknowledged event at the simulator', withinMs: 60_000, everyMs: 200 }
      )
      // Order per person: the first time each event arrived follows the order it was sent in.
      for (const email of new Set(delivered.map((event) => event.email))) {
        const firsts: number[] = []
        for (const event of delivered) if (event.email === email && !firsts.includes(event.seq)) firsts.push(event.seq)
        expect(firsts, email).to.deep.equal([...firsts].sort((x, y) => x - y))
      }
      const duplicates = delivered.length - new Set(delivered.map((event) => event.messageId)).size
      const takeovers = await metricOf(b.url, 'koala_adapter_queue_takeovers_total')
      // An entry goes twice only when the survivor took over a lease of the dead replica: at most one request of 30 per lease.
      expect(duplicates).to.be.at.most(takeovers * 30)
    } finally {
      for (const replica of replicas) replica.child.kill('SIGKILL')
      await sim.stop()
      await database.drop()
    }
  })
})
