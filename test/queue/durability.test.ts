import { expect } from 'chai'
import path from 'node:path'
import { Analytics } from '@segment/analytics-node'
import { seededRandom } from '../support/seeded-random'
import { tempDir } from '../support/temp-dir'
import { until } from '../support/until'
import { deliveredEvents, metricOf, personEvent, sendWebhook, useQueueProcesses, WRITE_KEY } from './queue-processes'

/**
 * Issue 15's promises, with real processes and a real store: what the door acknowledged
 * reaches Koala (the simulator), whatever happens to the service or to Koala meanwhile.
 */
describe('queue mode: nothing acknowledged is lost (real processes, SQLite)', function () {
  this.timeout(120_000)
  const processes = useQueueProcesses()
  const sim = () => processes.sim()


  it('SIGKILLed at random points under load and restarted, it delivers every event it answered 2xx', async () => {
    const queueUrl = `sqlite:${path.join(tempDir('queue-kill-'), 'queue.db')}`
    const random = seededRandom(15)
    const acknowledged = new Set<string>()
    let sent = 0
    for (let life = 0; life < 4; life++) {
      const service = await processes.service(queueUrl)
      // Eight senders at once; the kill lands after a random number of sends, while others are in flight.
      const killAfter = sent + 40 + Math.floor(random() * 80)
      const last = life === 3
      const sender = async () => {
        while (last ? sent < killAfter : service.child.exitCode === null && service.child.signalCode === null) {
          const n = sent++
          const event = personEvent(n % 25, n, 'kill')
          const status = await sendWebhook(service.url, event)
          if (status >= 200 && status < 300) acknowledged.add(event.messageId as string)
          if (!last && sent >= killAfter && service.child.signalCode === null) service.child.kill('SIGKILL')
          if (status === 0 && !last) return
        }
      }
      await Promise.all(Array.from({ length: 8 }, sender))
      if (!last) await until(() => service.child.signalCode !== null, { what: 'the service killed' })
    }
    expect(acknowledged.size).to.be.above(100)
    // The last life delivers what every earlier life acknowledged and left in the file.
    let delivered = new Set<string>()
    await until(
      async () => {
        delivered = new Set((await deliveredEvents(sim().url)).map((event) => event.messageId))
        return [...acknowledged].every((id) => delivered.has(id))
      },
      { what: 'every acknowledged event at the simulator', withinMs: 60_000, everyMs: 200 }
    )
    expect([...acknowledged].filter((id) => !delivered.has(id))).to.deep.equal([])
  })

  it('Koala down longer than @segment/analytics-node retries: once Koala is back, every event sent reaches it, in each person\'s order', async () => {
    const queueUrl = `sqlite:${path.join(tempDir('queue-outage-'), 'queue.db')}`
    // Koala answers 503 to everything until the faults are cleared.
    const down = await fetch(`${sim().url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 503, times: 1_000_000 }) })
    expect(down.status).to.equal(201)
    const service = await processes.service(queueUrl)
    const errors: unknown[] = []
    // The client's own retries are few and short: in direct mode these events would be lost.
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: service.url, flushAt: 5, maxRetries: 1, flushInterval: 50 })
    analytics.on('error', (error) => errors.push(error))
    for (let seq = 0; seq < 30; seq++) analytics.track({ userId: `user-${seq % 3}`, event: 'Step Done', messageId: `outage-${seq}`, properties: { seq, email: `person${seq % 3}@example.com` } })
    await analytics.closeAndFlush({ timeout: 30_000 })
    expect(errors).to.deep.equal([])
    // Koala refused the deliverer's requests meanwhile, and it sent them again after its backoff (1 s, then 2 s):
    // Koala stays down past the point analytics-node, with one retry, gives up; the entries wait in the store.
    const retried = () => metricOf(service.url, 'koala_adapter_queue_requests_total{workspace="default",outcome="retry"}')
    await until(async () => (await retried()) >= 6, { what: 'each person\'s request refused twice by Koala', withinMs: 30_000, everyMs: 100 })
    expect(await deliveredEvents(sim().url)).to.deep.equal([])

    await fetch(`${sim().url}/_sim/faults`, { method: 'DELETE' })
    let delivered: Awaited<ReturnType<typeof deliveredEvents>> = []
    await until(
      async () => {
        delivered = await deliveredEvents(sim().url)
        return new Set(delivered.map((event) => event.messageId)).size === 30
      },
      { what: 'all 30 events at Koala once it is back', withinMs: 30_000, everyMs: 100 }
    )
    // Each person's events came in the order they were sent.
    for (const email of new Set(delivered.map((event) => event.email))) {
      const seqs = delivered.filter((event) => event.email === email).map((event) => event.seq)
      expect(seqs, email).to.deep.equal([...seqs].sort((a, b) => a - b))
    }
  })
})
