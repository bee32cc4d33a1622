import { expect } from 'chai'
import { deliverRequests } from '../../src/pipeline/deliver-requests'
import { DeliveryQueue } from '../../src/pipeline/delivery-queue'

/**
 * Deliveries that each wait until the test answers them: a Koala as slow as the test says,
 * with no timer racing. Records starts and the most in flight at once.
 */
function heldDeliveries() {
  const started: string[] = []
  const held = new Map<string, (value: string) => void>()
  let inFlight = 0
  let maxInFlight = 0
  return {
    started,
    maxInFlight: () => maxInFlight,
    inFlight: () => inFlight,
    send: (id: string) => (): Promise<string> => {
      started.push(id)
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      return new Promise<string>((resolve) => held.set(id, resolve)).finally(() => inFlight--)
    },
    /** Answers one held delivery, and lets the queue react before returning. */
    async answer(id: string): Promise<void> {
      const resolve = held.get(id)
      if (resolve === undefined) throw new Error(`${id} is not in flight (started: ${started.join(', ')})`)
      held.delete(id)
      resolve(`ok ${id}`)
      await new Promise((done) => setImmediate(done))
    }
  }
}

describe('pipeline: the delivery queue', () => {
  it('keeps one person\'s deliveries one at a time and in order, while others fill the room', async () => {
    const koala = heldDeliveries()
    const queue = new DeliveryQueue(2)
    const settled: string[] = []
    for (const [who, id] of [['ada', 'a1'], ['ada', 'a2'], ['bob', 'b1'], ['ada', 'a3'], ['cyd', 'c1']]) {
      queue.submit(koala.send(id), (outcome) => settled.push(outcome.status === 'fulfilled' ? outcome.value : 'failed'), who)
    }
    // a2 waits for a1 although there is room: bob takes it.
    expect(koala.started).to.deep.equal(['a1', 'b1'])
    expect(queue.backlog).to.equal(3)
    await koala.answer('a1')
    // a2 joins the line behind cyd's delivery, which was ready first.
    expect(koala.started).to.deep.equal(['a1', 'b1', 'c1'])
    await koala.answer('b1')
    expect(koala.started).to.deep.equal(['a1', 'b1', 'c1', 'a2'])
    await koala.answer('a2')
    expect(koala.started.slice(-1)).to.deep.equal(['a3'])
    await koala.answer('c1')
    await koala.answer('a3')
    await queue.idle()
    expect(settled).to.deep.equal(['ok a1', 'ok b1', 'ok a2', 'ok c1', 'ok a3'])
    expect(koala.maxInFlight()).to.equal(2)
    expect(queue.backlog).to.equal(0)
  })

  it('never has more than `concurrency` in flight, and starts the rest in the order given', async () => {
    const koala = heldDeliveries()
    const queue = new DeliveryQueue(3)
    const ids = Array.from({ length: 10 }, (_, i) => `r${i}`)
    for (const id of ids) queue.submit(koala.send(id), () => undefined)
    expect(koala.inFlight()).to.equal(3)
    for (const id of ids) {
      await koala.answer(id)
      expect(koala.inFlight()).to.be.at.most(3)
    }
    await queue.idle()
    expect(koala.started).to.deep.equal(ids)
    expect(koala.maxInFlight()).to.equal(3)
  })

  it('settles a delivery that throws as rejected and goes on with the person\'s next one', async () => {
    const queue = new DeliveryQueue(1)
    const outcomes: string[] = []
    queue.submit(() => Promise.reject(new Error('a bug')), (outcome) => outcomes.push(outcome.status === 'rejected' ? (outcome.reason as Error).message : 'ok'), 'ada')
    queue.submit(() => Promise.resolve('sent'), (outcome) => outcomes.push(outcome.status === 'fulfilled' ? outcome.value : 'failed'), 'ada')
    await queue.idle()
    expect(outcomes).to.deep.equal(['a bug', 'sent'])
  })

  it('delivers one at a time when asked for no concurrency at all, rather than never', async () => {
    const queue = new DeliveryQueue(0)
    let done = 0
    queue.submit(async () => 1, () => done++)
    await queue.idle()
    expect(done).to.equal(1)
  })
})

describe('pipeline: delivering a set of requests', () => {
  it('answers each request\'s result in order, at most `concurrency` at once', async () => {
    const koala = heldDeliveries()
    const ids = Array.from({ length: 7 }, (_, i) => `r${i}`)
    const all = deliverRequests(ids, { concurrency: 2 }, (id) => koala.send(id)())
    expect(koala.started).to.deep.equal(['r0', 'r1'])
    // Answered out of order: the results still come back in the order of the requests.
    // Each answer makes room for the next request in line (answer() throws for one not started yet).
    for (const id of ['r1', 'r0', 'r3', 'r2', 'r4', 'r6', 'r5']) await koala.answer(id)
    expect(koala.started).to.deep.equal(ids)
    expect(await all).to.deep.equal(ids.map((id) => `ok ${id}`))
    expect(koala.maxInFlight()).to.equal(2)
  })

  it('sends them all at once when they fit, and rejects when a send throws', async () => {
    const koala = heldDeliveries()
    const all = deliverRequests(['a', 'b', 'c'], { concurrency: 3 }, (id) => koala.send(id)())
    expect(koala.started).to.deep.equal(['a', 'b', 'c'])
    for (const id of ['c', 'a', 'b']) await koala.answer(id)
    expect(await all).to.deep.equal(['ok a', 'ok b', 'ok c'])
    const failing = deliverRequests([1, 2, 3, 4], { concurrency: 2 }, async (n) => {
      if (n === 3) throw new Error('a bug')
      return n
    })
    let error: Error | undefined
    await failing.catch((reason: Error) => (error = reason))
    expect(error?.message).to.equal('a bug')
  })
})
