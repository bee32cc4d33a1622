import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { CONFIG_ENV_NAMES } from '../../src/config'
import { startHarness } from '../server/service-harness'
import { tempDir } from '../support/temp-dir'
import { envPairs, readDockerfile } from './read-dockerfile'

// js-yaml is mocha's own YAML reader, declared as a devDependency; it ships no types.
const { loadAll } = require('js-yaml') as { loadAll(text: string): unknown[] }

const ROOT = path.join(__dirname, '..', '..')
const MANIFESTS = path.join(ROOT, 'deploy', 'kubernetes')

type Container = {
  name: string
  args?: string[]
  command?: string[]
  ports?: { name?: string; containerPort: number }[]
  env?: { name: string; value?: string }[]
  envFrom?: unknown[]
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[]
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
}
type Probe = { httpGet?: { path: string; port: string | number } }
type PodSpec = { containers: Container[]; initContainers?: Container[]; volumes?: { name: string; configMap?: { name: string } }[] }
type Manifest = { kind: string; file: string; metadata: { name: string }; spec: any }

const manifests: Manifest[] = readdirSync(MANIFESTS)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) => loadAll(readFileSync(path.join(MANIFESTS, file), 'utf8')).map((doc) => ({ ...(doc as Manifest), file })))
const workloads = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job')
const containersOf = (m: Manifest) => {
  const pod = m.spec.template.spec as PodSpec
  return [...pod.containers, ...(pod.initContainers ?? [])]
}
const only = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind)
  expect(found, kind).to.have.length(1)
  return found[0]
}

/** Every `{ "env": NAME }` a shipped mapping file refers to. */
function mappingEnvReferences(): string[] {
  const names: string[] = []
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk)
    if (value === null || typeof value !== 'object') return
    const entries = Object.entries(value)
    if (entries.length === 1 && entries[0][0] === 'env' && typeof entries[0][1] === 'string') names.push(entries[0][1])
    else entries.forEach(([, inner]) => walk(inner))
  }
  const dir = path.join(ROOT, 'mappings')
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'schema.json')) walk(JSON.parse(readFileSync(path.join(dir, file), 'utf8')))
  return names
}

const dockerfile = readDockerfile(path.join(ROOT, 'Dockerfile'))
const image = dockerfile[dockerfile.length - 1]
const imageWorkdir = image.steps.filter((step) => step.keyword === 'WORKDIR').pop()!.args
const imageEntrypoint = JSON.parse(image.steps.find((step) => step.keyword === 'ENTRYPOINT')!.args) as string[]

describe('the Kubernetes manifests and the Dockerfile', function () {
  this.timeout(60_000)

  it('set only real settings and the variables the mapping files refer to', () => {
    const known = new Set([...Object.values(CONFIG_ENV_NAMES), ...mappingEnvReferences()])
    const set: string[] = []
    for (const m of workloads) {
      for (const container of containersOf(m)) {
        expect(container.envFrom, `${m.file}: ${container.name}: envFrom hides which variables are set`).to.equal(undefined)
        for (const { name } of container.env ?? []) set.push(`${m.file}: ${container.name}: ${name}`)
      }
    }
    for (const step of dockerfile.flatMap((stage) => stage.steps).filter((s) => s.keyword === 'ENV')) {
      for (const name of Object.keys(envPairs(step.args))) set.push(`Dockerfile:${step.line}: ${name}`)
    }
    expect(set).not.to.be.empty
    expect(set.filter((where) => !known.has(where.split(': ').pop()!))).to.deep.equal([])
  })

  it('probe paths the service answers 200 on, through the port the container listens on', async () => {
    const probes: { where: string; path: string }[] = []
    for (const m of workloads) {
      for (const container of containersOf(m)) {
        const port = Number(container.env?.find((e) => e.name === 'PORT')?.value ?? 8080)
        for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
          const probe = container[kind]?.httpGet
          if (probe === undefined) continue
          const where = `${m.file}: ${container.name}: ${kind}`
          const target = container.ports?.find((p) => p.name === probe.port || p.containerPort === probe.port)
          expect(target?.containerPort, `${where}: port ${probe.port}`).to.equal(port)
          probes.push({ where, path: probe.path })
        }
      }
    }
    expect(probes.map((p) => p.path)).to.include.members(['/readyz', '/healthz'])
    const service = await startHarness({ env: { KOALA_PUBLIC_API_KEY: 'pk_probe' } })
    try {
      for (const probe of probes) expect((await fetch(`${service.url}${probe.path}`)).status, probe.where).to.equal(200)
    } finally {
      await service.stop()
    }
  })

  it('route the Service to the Deployment\'s pods and named port', () => {
    const deployment = only('Deployment')
    const service = only('Service')
    expect(deployment.spec.template.metadata.labels).to.deep.include(service.spec.selector)
    const portNames = containersOf(deployment).flatMap((c) => (c.ports ?? []).map((p) => p.name))
    for (const port of service.spec.ports) expect(portNames).to.include(port.targetPort)
  })

  it('mount the mappings ConfigMap as the whole ./mappings folder of the image\'s working folder, so updates reach the service', () => {
    for (const m of workloads) {
      const pod = m.spec.template.spec as PodSpec
      const configMapVolumes = (pod.volumes ?? []).filter((v) => v.configMap !== undefined).map((v) => v.name)
      const mounts = pod.containers.flatMap((c) => c.volumeMounts ?? []).filter((mount) => configMapVolumes.includes(mount.name))
      expect(mounts.map((mount) => mount.mountPath), m.file).to.deep.equal([path.posix.join(imageWorkdir, 'mappings')])
      // A subPath mount is a copy Kubernetes never updates.
      expect(mounts[0].subPath, m.file).to.equal(undefined)
    }
  })

  it('run the image\'s CLI: serve in the Deployment, and in the Indexed Job replay --shard K/N with K from the completion index', () => {
    expect(containersOf(only('Deployment'))[0].args).to.deep.equal(['serve'])
    const job = only('Job')
    expect(job.spec.completionMode).to.equal('Indexed')
    const count = job.spec.completions as number
    expect(job.spec.parallelism).to.be.at.most(count)
    // The Job's shell command, run with a `node` that prints its arguments, once per completion index.
    const [shell, flag, script] = containersOf(job)[0].command!
    const fakeBin = tempDir('fake-node-')
    writeFileSync(path.join(fakeBin, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n')
    chmodSync(path.join(fakeBin, 'node'), 0o755)
    const help = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'koala-adapter.js'), 'replay', '--help'], { encoding: 'utf8' }).stdout
    const shards: string[] = []
    for (let index = 0; index < count; index++) {
      const run = spawnSync(shell, [flag, script], { env: { PATH: `${fakeBin}:${process.env.PATH}`, JOB_COMPLETION_INDEX: String(index) }, encoding: 'utf8' })
      expect(run.status, run.stderr).to.equal(0)
      const args = run.stdout.split('\n').slice(0, -1)
      expect(args.slice(0, 2)).to.deep.equal([imageEntrypoint[1], 'replay'])
      shards.push(args[args.indexOf('--shard') + 1])
      for (const option of args.filter((arg) => arg.startsWith('--'))) expect(help, `replay ${option}`).to.contain(`${option} `)
    }
    expect(shards).to.deep.equal(Array.from({ length: count }, (_, i) => `${i + 1}/${count}`))
  })
})
