import { tempDir } from '../support/temp-dir'
import { expect } from 'chai'
import { spawnSync } from 'node:child_process'
import net from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const ROOT = path.join(__dirname, '..', '..')
const BIN = path.join(ROOT, 'bin', 'koala-adapter.js')

/** Runs the real CLI as a user would, from the checkout. */
function cli(args: string[], input?: string) {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, lines: run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) }
}

describe('koala-adapter map', function () {
  this.timeout(60_000)

  it('prints one line per event, in input order, sends and drops alike', () => {
    const run = cli(['map', 'examples/events.ndjson'])
    expect(run.status, run.stderr).to.equal(0)
    expect(run.lines.map((l) => [l.messageId, l.outcome, l.reason])).to.deep.equal([
      ['ex-1', 'send', undefined],
      ['ex-2', 'send', undefined],
      ['ex-3', 'send', undefined],
      ['ex-4', 'send', undefined],
      ['ex-5', 'drop', 'analytics_js'],
      ['ex-6', 'drop', 'no_identity']
    ])
    expect(run.lines[0].requests).to.deep.equal([
      {
        endpoint: 'batch',
        body: {
          email: 'ada@example.com',
          traits: { email: 'ada@example.com' },
          events: [
            {
              type: 'track',
              event: 'Signed Up',
              email: 'ada@example.com',
              message_id: 'ex-1',
              sent_at: '2026-11-02T10:00:00.000Z',
              context: { library: { name: 'analytics-node', version: '2.1.0' }, traits: { email: 'ada@example.com' } },
              traits: { email: 'ada@example.com' },
              properties: { plan: 'team' }
            }
          ]
        }
      }
    ])
    expect(run.lines[3].requests[0]).to.deep.include({ endpoint: 'accounts/batch' })
    expect(run.lines[3].requests[0].body.domain).to.equal('acme.com')
    expect(run.lines[5].detail).to.contain('is not a UUID')
  })

  it('reads stdin: a JSON array, a /v1/batch envelope, and NDJSON with a malformed line', () => {
    const event = { type: 'identify', messageId: 's1', traits: { email: 'a@b.co' } }
    expect(cli(['map'], JSON.stringify([event, 7])).lines.map((l) => l.outcome)).to.deep.equal(['send', 'drop'])
    expect(cli(['map', '-'], JSON.stringify({ batch: [event], writeKey: 'x' })).lines[0].outcome).to.equal('send')
    const run = cli(['map'], `${JSON.stringify(event)}\n{"type":\n${JSON.stringify({ ...event, messageId: 's3' })}\n`)
    expect(run.lines.map((l) => [l.messageId, l.outcome, l.reason])).to.deep.equal([
      ['s1', 'send', undefined],
      [null, 'drop', 'invalid_event'],
      ['s3', 'send', undefined]
    ])
    expect(run.lines[1].detail).to.match(/^stdin:2: malformed JSON/)
  })

  it('--batch groups all events per person and prints counts on stderr', () => {
    const events = Array.from({ length: 65 }, (_, i) => JSON.stringify({ type: 'track', event: `E${i}`, messageId: `b${i}`, properties: { email: 'a@b.co' } }))
    events.push(JSON.stringify({ type: 'track', event: 'X', messageId: 'none' }))
    const run = cli(['map', '--batch'], events.join('\n'))
    expect(run.status).to.equal(0)
    expect(run.lines.map((l) => [l.endpoint, l.body.events.length])).to.deep.equal([
      ['batch', 30],
      ['batch', 30],
      ['batch', 5]
    ])
    expect(run.stderr.trim()).to.equal('events: 66, sent: 65, dropped: 1 (no_identity: 1), requests: 3')
  })

  it('--explain says which path gave the identity and which subscriptions matched', () => {
    const run = cli(['map', '--explain', 'examples/events.ndjson'])
    expect(run.lines[0].explain).to.deep.equal({ matched: ['Track Calls'], identity: { email: '$.context.traits.email', profile_id: null }, notes: [] })
  })

  it('--mapping FILE uses that file', () => {
    const dir = tempDir('cli-')
    const config = JSON.parse(readFileSync(path.join(ROOT, 'mappings', 'default.json'), 'utf8'))
    config.subscriptions = [config.subscriptions[1]]
    writeFileSync(path.join(dir, 'only-identify.json'), JSON.stringify(config))
    const run = cli(['map', '--mapping', path.join(dir, 'only-identify.json'), 'examples/events.ndjson'])
    expect(run.lines.map((l) => l.reason ?? l.outcome)).to.deep.equal(['no_subscription', 'send', 'no_subscription', 'no_subscription', 'analytics_js', 'no_subscription'])
  })

  it('finds workspaces as the service and replay do: default is the built-in one when --mappings has none', () => {
    const dir = tempDir('cli-')
    const run = cli(['map', '--mappings', dir, 'examples/events.ndjson'])
    expect(run.status, run.stderr).to.equal(0)
    expect(run.lines.map((l) => l.reason ?? l.outcome)).to.include('send')
    const missing = cli(['map', '--mappings', path.join(dir, 'nope'), 'examples/events.ndjson'])
    expect(missing.status).to.equal(2)
    expect(missing.stderr).to.contain('no such folder')
  })

  it('exits 2 naming the known workspaces for an unknown one, and on conflicting options', () => {
    const unknown = cli(['map', '--workspace', 'acme', 'examples/events.ndjson'])
    expect(unknown.status).to.equal(2)
    expect(unknown.stderr).to.match(/no mapping for workspace "acme".*known workspaces: default/)
    const both = cli(['map', '--workspace', 'default', '--mapping', 'mappings/default.json'])
    expect(both.status).to.equal(2)
    expect(cli(['map', 'no-such-file.ndjson']).status).to.equal(2)
    expect(cli(['frobnicate']).status).to.equal(2)
  })
})

describe('koala-adapter check', function () {
  this.timeout(60_000)

  it('prints ok for each good file of mappings/ and exits 0', () => {
    const run = spawnSync(process.execPath, [BIN, 'check'], { cwd: ROOT, encoding: 'utf8' })
    expect(run.status, run.stderr).to.equal(0)
    expect(run.stdout.trim().split('\n')).to.deep.equal(['ok mappings/default.json'])
  })

  it('prints <file>: <pointer>: <message> per problem and exits 1 when any file is bad', () => {
    const dir = tempDir('check-')
    const config = JSON.parse(readFileSync(path.join(ROOT, 'mappings', 'default.json'), 'utf8'))
    writeFileSync(path.join(dir, 'good.json'), JSON.stringify(config))
    config.subscriptions[0].mapping.event = { '@paht': '$.event' }
    config.subscriptions[1].subscribe = ''
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(config))
    const run = spawnSync(process.execPath, [BIN, 'check', dir], { cwd: ROOT, encoding: 'utf8' })
    expect(run.status).to.equal(1)
    const lines = run.stdout.trim().split('\n')
    expect(lines).to.include(`ok ${path.join(dir, 'good.json')}`)
    expect(lines.some((l) => l.startsWith(`${path.join(dir, 'bad.json')}: /subscriptions/0/mapping/event/@paht: `) && l.includes('@path'))).to.equal(true, lines.join('\n'))
    expect(lines.some((l) => l.startsWith(`${path.join(dir, 'bad.json')}: /subscriptions/1/subscribe: `))).to.equal(true, lines.join('\n'))
  })

  it('exits 2 for a path that does not exist', () => {
    const run = spawnSync(process.execPath, [BIN, 'check', 'nowhere/'], { cwd: ROOT, encoding: 'utf8' })
    expect(run.status).to.equal(2)
    expect(run.stderr).to.contain('no such file or folder: nowhere/')
  })

  it('lists every problem of every file in one run: schema, directives and FQL, each once, in plain words', () => {
    const dir = tempDir('check-')
    const config = JSON.parse(readFileSync(path.join(ROOT, 'mappings', 'default.json'), 'utf8'))
    config.koala.publicApiKey = 'pk_live_not_echoed'
    config.subscriptions[0].subscribe = 'type = "track" and'
    delete config.subscriptions[0].mapping.event
    config.subscriptions[0].mapping.properties = { '@paht': '$.properties' }
    config.subscriptions[0].mapping.context = { '@iff': {} }
    config.subscriptions[1].partnerAction = 'identity'
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(config))
    const segmentShaped = JSON.parse(readFileSync(path.join(ROOT, 'mappings', 'default.json'), 'utf8'))
    segmentShaped.subscriptions[0] = { name: 'Track', enabled: true, trigger: 'type = "track"', actionSlug: 'track', actionId: 'x', settings: {} }
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(segmentShaped))
    const run = spawnSync(process.execPath, [BIN, 'check', dir], { cwd: ROOT, encoding: 'utf8' })
    expect(run.status).to.equal(1)
    const a = path.join(dir, 'a.json')
    expect(run.stdout.trim().split('\n').map((line) => line.replace(/(: [^:]*): .*$/, '$1'))).to.deep.equal([
      `${a}: /koala/publicApiKey`,
      `${a}: /subscriptions/0/subscribe`,
      `${a}: /subscriptions/0/mapping/properties/@paht`,
      `${a}: /subscriptions/0/mapping/context/@iff`,
      `${a}: /subscriptions/0/mapping/event`,
      `${a}: /subscriptions/1/partnerAction`,
      `${path.join(dir, 'b.json')}: /subscriptions/0`
    ])
    expect(run.stdout).to.contain(`${a}: /subscriptions/0/mapping/event: required field "event" is missing\n`)
    expect(run.stdout).to.contain(`${a}: /subscriptions/1/partnerAction: "partnerAction" must be one of track, identify, page, group; did you mean "identify"?\n`)
    expect(run.stdout).to.contain(`${a}: /koala/publicApiKey: a secret must be an { "env": "NAME" } reference`)
    expect(run.stdout).to.match(/b\.json: \/subscriptions\/0: this subscription is in Segment's Public API \/ Terraform shape .*koala-adapter import FILE/)
    expect(run.stdout).not.to.contain('pk_live_not_echoed')
  })
})

describe('koala-adapter import', function () {
  this.timeout(60_000)
  const PUBLIC_API = path.join('test', 'fixtures', 'segment-koala-subscriptions.public-api.json')
  const TERRAFORM = path.join('test', 'fixtures', 'segment-koala-subscriptions.terraform.json')
  /** The CLI's output as text (import prints a mapping file, not NDJSON). */
  const run_ = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 })

  it('writes a mapping file from a Public API export that check accepts, and says on stderr what it left out', () => {
    const out = path.join(tempDir('import-'), 'acme.json')
    const run = run_(['import', PUBLIC_API, '--out', out])
    expect(run.status, run.stderr).to.equal(0)
    expect(run.stdout).to.equal('')
    expect(run.stderr.trim().split('\n')).to.deep.equal([
      `${PUBLIC_API}: /data/subscriptions/0: "enable_batching" not carried over: the adapter batches on its own (per person, up to 30 per Koala request)`,
      `${PUBLIC_API}: /data/subscriptions/0: "batch_size" not carried over: the adapter batches on its own (per person, up to 30 per Koala request)`,
      `${PUBLIC_API}: /data/subscriptions/3: subscription "Send to webhook" not imported: its action "send" is not one of Koala's (track, identify)`,
      `koala-adapter import: imported 3 of 4 subscriptions into ${out}`
    ])
    const check = run_(['check', out])
    expect(check.stdout.trim(), check.stdout).to.equal(`ok ${out}`)
    expect(check.status).to.equal(0)
    const mapped = cli(['map', '--mapping', out], JSON.stringify({ type: 'identify', traits: { email: 'ada@example.com' }, messageId: 'm-1', timestamp: '2026-01-02T03:04:05Z' }))
    expect(mapped.lines[0].outcome, mapped.stdout).to.equal('send')
  })

  it('reads terraform show -json from stdin and prints the mapping file on stdout', () => {
    const run = run_(['import', '-'], readFileSync(path.join(ROOT, TERRAFORM), 'utf8'))
    expect(run.status, run.stderr).to.equal(0)
    const mapping = JSON.parse(run.stdout)
    expect(mapping.subscriptions.map((s: { partnerAction: string }) => s.partnerAction)).to.deep.equal(['track', 'identify'])
    expect(run.stderr).to.contain('stdin: /values/root_module/child_modules/0/resources/0: subscription "Identify Calls" names no action slug: imported as identify')
  })

  it('refuses to replace a file without --force, and what is not an export; exits 1 when nothing could be imported', () => {
    const dir = tempDir('import-')
    const out = path.join(dir, 'acme.json')
    writeFileSync(out, 'keep me')
    const refused = run_(['import', PUBLIC_API, '--out', out])
    expect(refused.status).to.equal(2)
    expect(refused.stderr).to.contain(`--out ${out} exists; add --force to replace it`)
    expect(readFileSync(out, 'utf8')).to.equal('keep me')
    expect(run_(['import', PUBLIC_API, '--out', out, '--force']).status).to.equal(0)
    expect(JSON.parse(readFileSync(out, 'utf8')).subscriptions).to.have.length(3)

    const notExport = run_(['import', path.join('mappings', 'default.json')])
    expect(notExport.status).to.equal(2)
    expect(notExport.stderr).to.contain('not a Segment export')

    const webhookOnly = path.join(dir, 'webhook.json')
    writeFileSync(webhookOnly, JSON.stringify({ data: { subscriptions: [{ name: 'Hook', trigger: 'type = "track"', actionSlug: 'send', settings: {} }] } }))
    const nothing = run_(['import', webhookOnly])
    expect(nothing.status).to.equal(1)
    expect(nothing.stdout).to.equal('')
    expect(nothing.stderr).to.contain('nothing imported: none of the 1 subscriptions')
  })

  it('exits 1 and names each problem when the imported subscriptions do not pass check', () => {
    const dir = tempDir('import-')
    const file = path.join(dir, 'export.json')
    writeFileSync(file, JSON.stringify({ data: { subscriptions: [{ name: 'T', trigger: 'type = "track" and', actionSlug: 'track', settings: { event: { '@paht': '$.event' } } }] } }))
    const run = run_(['import', file])
    expect(run.status).to.equal(1)
    expect(run.stderr).to.contain('stdout: /subscriptions/0/subscribe: FQL has a dangling `and`')
    expect(run.stderr).to.contain('stdout: /subscriptions/0/mapping/event/@paht: unknown directive @paht')
    expect(run.stderr).to.contain('it does not pass `check` yet')
    expect(JSON.parse(run.stdout).subscriptions).to.have.length(1)
  })
})

describe('koala-adapter serve: a bad setting is one line and exit 2', function () {
  this.timeout(60_000)

  /** `serve` with the machine's environment minus the adapter's settings, plus `env`; in local mode, so no Koala is needed. */
  function serve(env: Record<string, string>) {
    const base: NodeJS.ProcessEnv = {}
    for (const [name, value] of Object.entries(process.env)) if (!/^(KOALA_|SEGMENT_|PORT$|HOST$|ADMIN_|ALLOW_)/.test(name)) base[name] = value
    const run = spawnSync(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 })
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, lines: run.stderr.split('\n').filter(Boolean) }
  }

  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ KOALA_TIMEOUT_MS: '2s' }, /^koala-adapter: setting KOALA_TIMEOUT_MS="2s" is not valid; allowed: a whole number, 0 or more, without a unit$/],
    [{ ALLOW_UNSIGNED_WEBHOOKS: 'yes' }, /^koala-adapter: setting ALLOW_UNSIGNED_WEBHOOKS="yes" is not valid; allowed: .*true.*false/],
    [{ PORT: '99999' }, /^koala-adapter: setting PORT="99999" is not valid; allowed: a whole number, 0 to 65535, without a unit$/],
    [{ KOALA_BASE_URL: 'ftp://koala.test/x' }, /^koala-adapter: setting KOALA_BASE_URL="ftp:\/\/koala.test\/x" is not valid; allowed: an http:\/\/ or https:\/\/ URL$/],
    [{ ADMIN_TOKEN: 'sesame' }, /^koala-adapter: setting ADMIN_TOKEN=\(6 characters, not shown\) is not valid; allowed: at least 16 characters$/]
  ]
  for (const [env, line] of cases) {
    it(`${Object.entries(env).map(([name, value]) => `${name}=${value}`).join(' ')}`, () => {
      const run = serve(env)
      expect(run.lines, run.stderr).to.have.length(1)
      expect(run.lines[0]).to.match(line)
      expect(run.status).to.equal(2)
      expect(run.stderr).not.to.include('sesame')
    })
  }

  it('a port in use', async () => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as net.AddressInfo).port
    try {
      const run = serve({ PORT: String(port), HOST: '127.0.0.1' })
      expect(run.lines, run.stderr).to.deep.equal([`koala-adapter: setting PORT=${port}: the port is in use on 127.0.0.1; allowed: a free port, or 0 for any free port`])
      expect(run.status).to.equal(2)
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})
