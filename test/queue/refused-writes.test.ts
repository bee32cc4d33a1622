import { expect } from 'chai'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { Client } from 'pg'
import { tempDir } from '../support/temp-dir'
import { until } from '../support/until'
import { deliveredEvents, personEvent, SECRET, useQueueProcesses } from './queue-processes'
import { signBody } from '../../src/server/signature'

type Answer = { status: number; retryAfter: string | null; code?: string }

async function post(url: string, event: unknown): Promise<Answer> {
  const body = JSON.stringify(event)
  const answer = await fetch(`${url}/webhook/default`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signBody(body, SECRET) }, body })
  const json = (await answer.json()) as { code?: string }
  return { status: answer.status, retryAfter: answer.headers.get('retry-after'), code: json.code }
}

const koalaDown = (simUrl: string) =>
  fetch(`${simUrl}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 503, times: 1_000_000 }) })
const koalaBack = (simUrl: string) => fetch(`${simUrl}/_sim/faults`, { method: 'DELETE' })

/**
 * The store cannot take a request: the door answers 503 with Retry-After (Segment and
 * analytics-node send it again), stores nothing of it, and everything it acknowledged
 * before still reaches Koala.
 */
describe('queue mode: a store that refuses a write answers 503 and stores nothing half (real processes)', function () {
  this.timeout(120_000)
  const processes = useQueueProcesses()
  const sim = () => processes.sim()


  it('a full disk (a real tmpfs): 503 QUEUE_WRITE_FAILED; once there is room, every acknowledged event is delivered and the refused one never', async function () {
    const disk = path.join(tempDir('queue-disk-'), 'tiny')
    mkdirSync(disk)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk], { stdio: 'ignore' })
    } catch {
      this.skip() // mounting needs root
    }
    try {
      // A filler leaves the store half a MB, so the disk fills within a few dozen events; removing it gives
      // the room back, more than SQLite's write-ahead log takes before it checkpoints (4 MB).
      writeFileSync(path.join(disk, 'filler'), Buffer.alloc(15.5 * 1024 * 1024))
      await koalaDown(sim().url)
      const service = await processes.service(`sqlite:${path.join(disk, 'queue.db')}`)
      const acknowledged: string[] = []
      let refused: { id: string; answer: Answer } | undefined
      for (let n = 0; n < 5_000 && refused === undefined; n++) {
        const event = personEvent(n % 7, n, 'disk')
        const answer = await post(service.url, event)
        if (answer.status === 200) acknowledged.push(event.messageId as string)
        else refused = { id: event.messageId as string, answer }
      }
      expect(refused, 'the disk never filled').not.to.equal(undefined)
      expect(refused!.answer.status).to.equal(503)
      expect(refused!.answer.code).to.equal('QUEUE_WRITE_FAILED')
      expect(Number(refused!.answer.retryAfter)).to.be.at.least(1)
      expect(acknowledged.length).to.be.above(10)

      rmSync(path.join(disk, 'filler'))
      await koalaBack(sim().url)
      let delivered = new Set<string>()
      await until(
        async () => {
          delivered = new Set((await deliveredEvents(sim().url)).map((event) => event.messageId))
          return acknowledged.every((id) => delivered.has(id))
        },
        { what: 'every acknowledged event at the simulator', withinMs: 60_000, everyMs: 200 }
      )
      expect(delivered.has(refused!.id), 'the refused event was stored after all').to.equal(false)
      // With room again, the door takes events again.
      const again = await post(service.url, personEvent(1, 9_999, 'disk'))
      expect(again.status, JSON.stringify(again) + service.output()).to.equal(200)
    } finally {
      await processes.killServices()
      execFileSync('umount', ['-l', disk])
    }
  })

  it('past QUEUE_MAX_ENTRIES: 503 QUEUE_FULL with Retry-After, nothing of the request stored; room again once Koala takes the rest', async () => {
    await koalaDown(sim().url)
    const service = await processes.service(`sqlite:${path.join(tempDir('queue-full-'), 'queue.db')}`, { QUEUE_MAX_ENTRIES: '5' })
    for (let n = 0; n < 5; n++) expect((await post(service.url, personEvent(n, n, 'full'))).status).to.equal(200)
    const full = await post(service.url, personEvent(9, 5, 'full'))
    expect(full.status).to.equal(503)
    expect(full.code).to.equal('QUEUE_FULL')
    expect(Number(full.retryAfter)).to.be.at.least(1)
    await koalaBack(sim().url)
    await until(async () => (await deliveredEvents(sim().url)).length === 5, { what: 'the five stored events delivered', withinMs: 30_000, everyMs: 100 })
    expect((await deliveredEvents(sim().url)).map((event) => event.messageId)).not.to.include('full-9-5')
    expect((await post(service.url, personEvent(9, 5, 'full'))).status).to.equal(200)
  })

  it('PostgreSQL refusing the insert: 503 QUEUE_WRITE_FAILED, nothing stored; accepted again once it takes writes', async () => {
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
    await admin.connect()
    const name = `queue_refused_${process.pid}`
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${name}`)
    const url = `postgres://postgres@127.0.0.1:5432/${name}`
    const db = new Client({ connectionString: url })
    try {
      const service = await processes.service(url)
      expect((await post(service.url, personEvent(1, 0, 'pg'))).status).to.equal(200)
      await db.connect()
      // What a database refusing writes looks like to the service: every insert fails.
      await db.query(`ALTER TABLE queue_entries ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`)
      const refused = await post(service.url, personEvent(1, 1, 'pg'))
      expect(refused.status).to.equal(503)
      expect(refused.code).to.equal('QUEUE_WRITE_FAILED')
      await db.query(`ALTER TABLE queue_entries DROP CONSTRAINT refuse_all`)
      expect((await post(service.url, personEvent(1, 2, 'pg'))).status).to.equal(200)
      await until(async () => (await deliveredEvents(sim().url)).length === 2, { what: 'the two accepted events delivered', withinMs: 30_000, everyMs: 100 })
      expect((await deliveredEvents(sim().url)).map((event) => event.messageId)).to.deep.equal(['pg-1-0', 'pg-1-2'])
    } finally {
      await processes.killServices()
      await db.end().catch(() => {})
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  })
})
