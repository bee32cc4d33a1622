import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { startSimulator, type RunningSimulator } from '../../src/simulator/start-simulator'
import { BIN, DAY1, DAY_MS, KOALA_KEY, messageIdsOf, ROOT, tempDir, trackEvent, writeArchiveFile } from './archive-fixtures'

/** A small deterministic PRNG: the kill points are random, and the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

type Outcome = { killed: boolean; status: number | null; stdout: string; stderr: string }

/**
 * Runs the replay and, when `killAfterMs` is given, SIGKILLs it that long after it
 * started delivering (`delivering()` turns true), unless it ended first.
 */
function runAndKill(args: string[], env: NodeJS.ProcessEnv, delivering: () => boolean, killAfterMs: number | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } })
    let stdout = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    let timer: NodeJS.Timeout | undefined
    const watch = setInterval(() => {
      if (killAfterMs === undefined || !delivering()) return
      clearInterval(watch)
      timer = setTimeout(() => {
        killed = true
        child.kill('SIGKILL')
      }, killAfterMs)
    }, 10)
    child.on('close', (status) => {
      clearInterval(watch)
      clearTimeout(timer)
      resolve({ killed: killed && status === null, status, stdout, stderr })
    })
  })
}

describe('koala-adapter replay, killed with SIGKILL at random points', function () {
  this.timeout(60_000)
  let sim: RunningSimulator
  before(async () => (sim = await startSimulator({ keys: [KOALA_KEY] })))
  after(() => sim.close())

  // One thread, and map threads answering it: the same promise both ways.
  const ways = [
    { mapThreads: 0, name: 'one thread' },
    { mapThreads: 2, name: '2 map threads' }
  ]
  for (const { mapThreads, name } of ways) it(`resumes from its checkpoint until done; Koala then holds every messageId of the archive (${name})`, async () => {
    const root = tempDir()
    const ids: string[] = []
    for (let day = 0; day < 3; day++) {
      for (const part of ['a', 'b']) {
        const events = Array.from({ length: 500 }, (_, i) => trackEvent(`d${day}${part}-${i}`, `p${(i * 7 + day) % 40}@example.com`))
        writeArchiveFile(root, 'src', DAY1 + day * DAY_MS, `${part}.gz`, [events.slice(0, 250), events.slice(250)])
        ids.push(...events.map((event) => event.messageId))
      }
    }
    // Two requests refused for good (dead-lettered), then slow answers, so the run lasts long enough for kills to land mid-delivery.
    sim.reset()
    sim.addFaults([{ status: 400, times: 2 }, { latencyMs: 10, times: 1_000_000 }])
    const dir = tempDir()
    const checkpoint = path.join(dir, 'checkpoint.json')
    const deadLetter = path.join(dir, 'dead.ndjson')
    const args = ['replay', '--workspace', 'default', '--json', '--quiet', '--concurrency', '2', '--checkpoint', checkpoint, '--dead-letter', deadLetter, root]
    const env = {
      KOALA_PUBLIC_API_KEY: KOALA_KEY,
      KOALA_BASE_URL: sim.baseUrl,
      REPLAY_CHECKPOINT_INTERVAL_MS: '50',
      REPLAY_BUFFER_ENTRIES: '300',
      REPLAY_MAX_HOLD_MS: '200',
      REPLAY_MAP_THREADS: String(mapThreads)
    }

    const random = seeded(20261122)
    let kills = 0
    let final: Outcome | undefined
    for (let attempt = 0; attempt < 12 && final === undefined; attempt++) {
      // The first few runs are killed at a random moment once they deliver; the last one runs to its end.
      const killAfter = attempt < 5 ? Math.floor(random() * 500) : undefined
      const before = sim.requests().length
      const outcome = await runAndKill(args, env, () => sim.requests().length > before, killAfter)
      if (outcome.killed) kills++
      else final = outcome
    }
    expect(final, 'the replay never finished').not.to.equal(undefined)
    expect(final!.status, final!.stderr).to.be.oneOf([0, 1])
    expect(kills).to.be.at.least(3)
    expect(existsSync(checkpoint)).to.equal(true)

    const summary = JSON.parse(final!.stdout)
    // The last run resumed: it did not read the archive from the start again.
    expect(summary.events.read).to.be.below(ids.length)
    // Every event reached Koala or the dead-letter file, which was written before the checkpoint moved past it.
    const delivered = new Set(messageIdsOf(sim.requests()))
    const deadLettered = readFileSync(deadLetter, 'utf8').trim().split('\n').map((line) => JSON.parse(line).event.messageId as string)
    expect(deadLettered.length).to.be.within(1, 60)
    const missing = ids.filter((id) => !delivered.has(id) && !deadLettered.includes(id))
    expect(missing).to.deep.equal([])
  })
})
