import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { startProcess } from '../support/long-running-process'
import { tempDir } from '../support/temp-dir'
import { until } from '../support/until'
import { envPairs, readDockerfile, type Stage } from './read-dockerfile'

const ROOT = path.join(__dirname, '..', '..')
const DOCKERFILE = path.join(ROOT, 'Dockerfile')

/** What the builder may read: .dockerignore's rules (last match wins; a rule on a folder covers what is in it). */
function inBuildContext(file: string): boolean {
  const rules = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  const prefixes = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))
  let included = true
  for (const rule of rules) {
    const negated = rule.startsWith('!')
    const pattern = new RegExp(`^${rule.replace(/^!/, '').replace(/\/$/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`)
    if (prefixes.some((prefix) => pattern.test(prefix))) included = negated
  }
  return included
}

type Replayed = { root: string; workdir: string; env: Record<string, string>; user: string | undefined; entrypoint: string[]; cmd: string[]; healthcheck: string[] }

/**
 * Runs a stage's steps in a folder standing for the image's `/`: WORKDIR and COPY as the
 * builder does them, RUN with `sh -c`. `substitute` may stand in for a RUN step.
 */
function replayStage(stage: Stage, root: string, stages: Map<string, string>, substitute: (run: string, cwd: string) => boolean): Replayed {
  const inImage = (file: string, cwd: string) => path.join(root, path.posix.resolve(cwd, file))
  const state: Replayed = { root, workdir: '/', env: {}, user: undefined, entrypoint: [], cmd: [], healthcheck: [] }
  for (const step of stage.steps) {
    const where = `Dockerfile:${step.line}`
    switch (step.keyword) {
      case 'WORKDIR':
        state.workdir = path.posix.resolve(state.workdir, step.args)
        mkdirSync(inImage('.', state.workdir), { recursive: true })
        break
      case 'COPY': {
        const parts = step.args.split(/\s+/)
        const destination = parts.pop()!
        for (const source of parts) {
          let from: string
          if (step.flags.from !== undefined) {
            expect(stages.has(step.flags.from), `${where}: no stage ${step.flags.from}`).to.equal(true)
            from = path.join(stages.get(step.flags.from)!, source)
          } else {
            expect(inBuildContext(source), `${where}: .dockerignore keeps ${source} out of the build context`).to.equal(true)
            from = path.join(ROOT, source)
          }
          expect(existsSync(from), `${where}: ${source} does not exist`).to.equal(true)
          const into = destination.endsWith('/') && statSync(from).isFile() ? path.posix.join(destination, path.basename(source)) : destination
          cpSync(from, inImage(into, state.workdir), { recursive: true })
        }
        break
      }
      case 'RUN': {
        const cwd = inImage('.', state.workdir)
        if (substitute(step.args, cwd)) break
        // npm_config_nodedir names the headers of the Node running the tests (.ci/run sets it for Node 24): better-sqlite3,
        // compiled where no prebuilt binary is reachable, must be built for that Node. A compile takes minutes on a busy machine.
        const nodedir = process.env.npm_config_nodedir === undefined ? {} : { npm_config_nodedir: process.env.npm_config_nodedir }
        const run = spawnSync('sh', ['-c', step.args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...nodedir, ...state.env }, encoding: 'utf8', timeout: 420_000 })
        expect(run.status, `${where}: RUN ${step.args}\n${run.stderr}`).to.equal(0)
        break
      }
      case 'ENV':
        Object.assign(state.env, envPairs(step.args))
        break
      case 'USER':
        state.user = step.args
        break
      case 'ENTRYPOINT':
        state.entrypoint = JSON.parse(step.args)
        break
      case 'CMD':
        state.cmd = JSON.parse(step.args)
        break
      case 'HEALTHCHECK':
        expect(step.args, `${where}: HEALTHCHECK in exec form`).to.match(/^CMD \[/)
        state.healthcheck = JSON.parse(step.args.slice('CMD '.length))
        break
    }
  }
  return state
}

describe('the Dockerfile', function () {
  this.timeout(600_000)
  const stages = readDockerfile(DOCKERFILE)
  const runtime = stages[stages.length - 1]
  const last = (keyword: string) => runtime.steps.filter((step) => step.keyword === keyword).pop()

  it('builds on Node 24 slim in two stages and runs as a non-root user, in exec form, health-checked on /healthz', () => {
    expect(stages.map((stage) => stage.image)).to.deep.equal(['node:24-slim', 'node:24-slim'])
    expect(last('USER')?.args).to.be.a('string').and.not.match(/^(root|0)(:|$)/)
    // Exec form: the process itself gets SIGTERM, not a shell that does not pass it on.
    expect(() => JSON.parse(last('ENTRYPOINT')!.args)).not.to.throw()
    expect(() => JSON.parse(last('CMD')!.args)).not.to.throw()
    expect(last('HEALTHCHECK')?.args).to.contain('/healthz')
    // Only the compiled code crosses from the build stage; dependencies are installed without dev ones.
    const fromBuild = runtime.steps.filter((step) => step.keyword === 'COPY' && step.flags.from !== undefined)
    expect(fromBuild.map((step) => step.args.split(/\s+/)[0])).to.deep.equal(['/opt/koala-adapter/dist'])
    for (const step of runtime.steps.filter((s) => s.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(s.args))) expect(step.args).to.contain('--omit=dev')
  })

  it('replayed in a clean folder, builds, installs production dependencies only, and serves the mounted mappings in queue mode, healthy, until SIGTERM', async () => {
    const folder = tempDir('koala-adapter-image-')
    const built = new Map<string, string>()
    const [build] = stages
    // The build stage's `npm ci` installs the lock file's dev tree: this checkout's node_modules
    // is that tree, so it stands in (a minute of downloads saved); every other step runs as written.
    const buildRoot = path.join(folder, 'build')
    const buildStage = replayStage(build, buildRoot, built, (run, cwd) => {
      if (!/^npm ci\b/.test(run)) return false
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(cwd, 'node_modules'))
      return true
    })
    built.set(build.name!, buildRoot)
    expect(existsSync(path.join(buildRoot, buildStage.workdir, 'dist', 'cli.js')), 'the build stage builds dist/').to.equal(true)

    const image = replayStage(runtime, path.join(folder, 'image'), built, () => false)
    const app = path.join(image.root, 'opt', 'koala-adapter')
    for (const devOnly of ['typescript', 'ts-node', '@swc/core']) expect(existsSync(path.join(app, 'node_modules', devOnly)), devOnly).to.equal(false)
    expect(existsSync(path.join(app, 'src')), 'no sources in the image').to.equal(false)

    // `docker run -v ./mappings:/home/node/mappings -e PORT=... image`, as README "Deploy" says.
    const home = path.join(image.root, image.workdir)
    mkdirSync(path.join(home, 'mappings'))
    cpSync(path.join(ROOT, 'mappings', 'default.json'), path.join(home, 'mappings', 'acme.json'))
    const inImage = (arg: string) => (arg.startsWith('/') && existsSync(path.join(image.root, arg)) ? path.join(image.root, arg) : arg)
    const [node, ...args] = [...image.entrypoint, ...image.cmd].map(inImage)
    expect(node).to.equal('node')
    const adminToken = 'admin-token-for-the-image-test'
    // Queue mode on SQLite: the store's native module, installed by the image's `npm ci`, loads in it.
    const env = { PATH: process.env.PATH, HOME: home, ...image.env, PORT: '0', LOG_LEVEL: 'warn', ADMIN_TOKEN: adminToken, QUEUE_URL: `sqlite:${path.join(home, 'queue.db')}` }
    const service = await startProcess(args, { ready: /listening on http:\/\/[^:]+:(\d+)/, cwd: home, env })
    try {
      type Ready = { workspaces: string[]; queue?: { depth: number } }
      let ready: Ready = { workspaces: [] }
      const readyz = async () => (ready = (await (await fetch(`http://127.0.0.1:${service.match[1]}/readyz`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as Ready)
      await until(async () => (await readyz()).queue !== undefined, { what: 'the queue in /readyz, read from the store' })
      expect(ready.workspaces).to.include('acme')
      expect(ready.queue).to.include({ depth: 0 })
      const [checker, ...checkArgs] = image.healthcheck
      expect(checker).to.equal('node')
      const health = spawnSync(process.execPath, checkArgs, { env: { ...env, PORT: service.match[1] }, encoding: 'utf8', timeout: 30_000 })
      expect(health.status, health.stderr).to.equal(0)
    } finally {
      expect(await service.stop(), service.output()).to.equal(0)
    }
  })
})
