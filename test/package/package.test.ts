import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { signBody } from '../../src/server/signature'
import { post, trackEvent } from '../server/service-harness'
import { startProcess } from '../support/long-running-process'
import { tempDir } from '../support/temp-dir'

const ROOT = path.join(__dirname, '..', '..')
const { staleReason, build } = require(path.join(ROOT, 'scripts', 'build.js')) as { staleReason(): string | undefined; build(): number }

function npm(args: string[], cwd: string) {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 120_000 })
  if (run.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${run.status}:\n${run.stderr}`)
  return run.stdout
}

/**
 * What `npm pack` ships, installed as a user installs it: an empty folder, production
 * dependencies only (from the registry), nothing of the checkout reachable.
 */
describe('the npm package, installed with production dependencies only', function () {
  this.timeout(180_000)
  let app: string
  let bin: string
  let shipped: string[]
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...extra })
  const cli = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { cwd: app, env: env(), input, encoding: 'utf8', timeout: 60_000 })

  before(() => {
    // The suite's global setup builds dist/; this keeps a lone run of this file honest too.
    if (staleReason() !== undefined) expect(build()).to.equal(0)
    const folder = tempDir('koala-adapter-package-')
    // prepack would rebuild dist/; it is current, and `npm run build` is tested by every CLI test.
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', folder], ROOT)) as [{ filename: string; files: { path: string }[] }]
    shipped = packed.files.map((file) => file.path)
    app = path.join(folder, 'app')
    mkdirSync(app)
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'user-app', private: true }))
    npm(['install', '--omit=dev', '--no-audit', '--no-fund', path.join(folder, packed.filename)], app)
    bin = path.join(app, 'node_modules', '.bin', 'koala-adapter')
  })

  it('ships dist/, mappings/ and the README, and installs no compiler', () => {
    expect(shipped).to.include.members(['dist/cli.js', 'dist/replay/intake/map-thread-entry.js', 'mappings/default.json', 'mappings/schema.json', 'README.md', 'bin/koala-adapter.js'])
    expect(shipped.filter((file) => !/^(dist\/|mappings\/|bin\/koala-adapter\.js$|README\.md$|package\.json$)/.test(file))).to.deep.equal([])
    for (const devOnly of ['typescript', 'ts-node', '@swc/core', 'mocha']) expect(existsSync(path.join(app, 'node_modules', devOnly)), devOnly).to.equal(false)
  })

  it('serves: `serve` delivers a signed webhook event to Koala (here `sim`, from the same package)', async () => {
    const sim = await startProcess([bin, 'sim', '--port', '0'], { ready: /KOALA_BASE_URL=(\S+)/, cwd: app, env: env() })
    try {
      const service = await startProcess([bin, 'serve'], {
        ready: /listening on (http:\/\/\S+)/,
        cwd: app,
        env: env({ PORT: '0', HOST: '127.0.0.1', KOALA_PUBLIC_API_KEY: 'pk_package', KOALA_BASE_URL: sim.match[1], SEGMENT_SHARED_SECRET: 'package-secret' })
      })
      try {
        const body = JSON.stringify(trackEvent(1))
        const answer = await post(`${service.match[1]}/webhook/default`, body, { 'x-signature': signBody(body, 'package-secret') })
        expect(answer.status, JSON.stringify(answer.body)).to.equal(200)
        const received = (await (await fetch(`${new URL(sim.match[1]).origin}/_sim/requests`)).json()) as { path: string; body: any }[]
        expect(received.map((request) => request.body.events?.[0]?.message_id)).to.deep.equal(['msg-1'])
        expect(received[0].path).to.contain('pk_package')
      } finally {
        expect(await service.stop(), service.output()).to.equal(0)
      }
    } finally {
      await sim.stop()
    }
  })

  it('maps, checks and replays (dry run, with map threads and without) from dist/', () => {
    const mapped = cli(['map'], JSON.stringify(trackEvent(2)))
    expect(mapped.status, mapped.stderr).to.equal(0)
    expect(JSON.parse(mapped.stdout)).to.include({ outcome: 'send', messageId: 'msg-2' })

    const checked = cli(['check'])
    expect(checked.status, checked.stderr).to.equal(0)
    expect(checked.stdout).to.match(/^ok .*default\.json$/m)

    const archive = path.join(ROOT, 'examples', 'segment-logs')
    for (const threads of [['--map-threads', '0'], ['--map-threads', '2']]) {
      const replayed = cli(['replay', '--workspace', 'default', '--dry-run', '--json', '--quiet', '--out', path.join(app, 'requests.ndjson'), ...threads, archive])
      expect(replayed.status, replayed.stderr).to.equal(0)
      const summary = JSON.parse(replayed.stdout)
      expect(summary.dryRun).to.equal(true)
      expect(summary.events, threads.join(' ')).to.include({ read: 48, sent: 44 })
    }
  })
})
