import { tempDir } from '../support/temp-dir'
import { expect } from 'chai'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { AdapterError, MappingProblems } from '../../src/errors'
import { loadMappingFile, resolveSecret, workspaceFile } from '../../src/mapping/load-mapping'
import { JSON_SCHEMA_PATH, mappingJsonSchema } from '../../src/mapping/write-json-schema'

const DEFAULT = path.join(__dirname, '..', '..', 'mappings', 'default.json')
const defaultConfig = () => JSON.parse(readFileSync(DEFAULT, 'utf8'))

/** The problems a mapping text has, as `<pointer>: <message>` lines, in the order `check` shows them. */
function problemsOf(config: unknown): string[] {
  const text = typeof config === 'string' ? config : JSON.stringify(config)
  try {
    const dir = tempDir('mapping-')
    const file = path.join(dir, 'ws.json')
    writeFileSync(file, text)
    loadMappingFile(file)
  } catch (error) {
    if (error instanceof MappingProblems) return error.problems.map((problem) => problem.message.replace(/^.*ws\.json: /, ''))
    throw error
  }
  return []
}

describe('mapping files', () => {
  it('mappings/schema.json is what the zod schema generates (run `npm run schema` when this fails)', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).to.equal(mappingJsonSchema())
  })

  it('mappings/default.json loads and compiles', () => {
    const loaded = loadMappingFile(DEFAULT)
    expect(loaded.workspace).to.equal('default')
    expect(loaded.compiled.config.subscriptions.map((s) => s.partnerAction)).to.deep.equal(['track', 'identify', 'page', 'group'])
  })

  it('names the file and the JSON pointer of a typo in a mapping field, with a suggestion', () => {
    const config = defaultConfig()
    config.subscriptions[0].mapping.evnt = { '@path': '$.event' }
    expect(problemsOf(config)).to.deep.equal(['/subscriptions/0/mapping/evnt: unknown field "evnt"; did you mean "event"?'])

    const dir = tempDir('mapping-')
    const file = path.join(dir, 'acme.json')
    writeFileSync(file, JSON.stringify(config))
    expect(() => loadMappingFile(file)).to.throw(`${file}: /subscriptions/0/mapping/evnt: unknown field "evnt"`)
  })

  it('refuses context in a group mapping: Koala\'s account identifies carry none', () => {
    const config = defaultConfig()
    config.subscriptions[3].mapping.context = { '@path': '$.context' }
    const [problem] = problemsOf(config)
    expect(problem).to.match(/^\/subscriptions\/3\/mapping\/context: unknown field "context"/)
  })

  it('lists the allowed fields when nothing is close', () => {
    const config = defaultConfig()
    config.identity.email.zzzzzzzz = true
    expect(problemsOf(config)).to.deep.equal(['/identity/email/zzzzzzzz: unknown field "zzzzzzzz"; expected one of: paths, transform'])
  })

  it('reports every problem of a file, not just the first', () => {
    const config = defaultConfig()
    delete config.version
    config.subscriptions[1].partnerAction = 'identity'
    config.koala.publicApiKey = 'pk_live_123'
    expect(problemsOf(config)).to.deep.equal([
      '/koala/publicApiKey: a secret must be an { "env": "NAME" } reference; put the value itself in that environment variable',
      '/subscriptions/1/partnerAction: "partnerAction" must be one of track, identify, page, group; did you mean "identify"?',
      '/version: required field "version" is missing; it must be 1'
    ])
  })

  it('lists schema, directive and FQL problems together, every one of each mapping, in the file\'s order', () => {
    const config = defaultConfig()
    config.koala.baseUrl = 'not a url'
    config.subscriptions[0].subscribe = 'type = "track" and'
    delete config.subscriptions[0].mapping.event
    config.subscriptions[0].mapping.properties = { plan: { '@paht': '$.plan' }, seats: { '@path': '$.seats' }, owner: { '@iff': {} } }
    config.subscriptions[0].mapping.context = { '@literal': 1, '@path': '$.context' }
    config.subscriptions[1].mapping.traits = { '@tempalte': '{{traits}}' }
    const problems = problemsOf(config)
    expect(problems.map((problem) => problem.replace(/: .*$/, ''))).to.deep.equal([
      '/koala/baseUrl',
      '/subscriptions/0/subscribe',
      '/subscriptions/0/mapping/properties/plan/@paht',
      '/subscriptions/0/mapping/properties/owner/@iff',
      '/subscriptions/0/mapping/context/@path',
      '/subscriptions/0/mapping/event',
      '/subscriptions/1/mapping/traits/@tempalte'
    ])
    expect(problems).to.include('/koala/baseUrl: "baseUrl" must be a URL (https://…)')
    expect(problems).to.include('/subscriptions/0/mapping/event: required field "event" is missing')
    expect(problems.find((problem) => problem.startsWith('/subscriptions/0/subscribe'))).to.match(/dangling `and`/)
  })

  it('still checks the directives and FQL of a file whose schema fails, and each problem once', () => {
    const config = defaultConfig()
    delete config.identity
    config.subscriptions[0].mapping.event = { '@paht': '$.event' }
    config.subscriptions[2].subscribe = 'type = "page" and or'
    const problems = problemsOf(config)
    expect(problems.map((problem) => problem.replace(/: .*$/, ''))).to.deep.equal([
      '/subscriptions/0/mapping/event/@paht',
      '/subscriptions/2/subscribe',
      '/identity'
    ])
    expect(problems[2]).to.equal('/identity: required field "identity" is missing')
  })

  it('checks a subscription with a wrong or missing partnerAction as the action it most likely means', () => {
    const config = defaultConfig()
    config.subscriptions[1].partnerAction = 'identity'
    config.subscriptions[1].mapping.evnt = { '@path': '$.event' }
    delete config.subscriptions[0].partnerAction
    config.subscriptions[0].mapping.proprties = { '@path': '$.properties' }
    expect(problemsOf(config)).to.deep.equal([
      '/subscriptions/0/mapping/proprties: unknown field "proprties"; did you mean "properties"?',
      '/subscriptions/0/partnerAction: required field "partnerAction" is missing; it is one of track, identify, page, group',
      '/subscriptions/1/partnerAction: "partnerAction" must be one of track, identify, page, group; did you mean "identify"?',
      '/subscriptions/1/mapping/evnt: unknown field "evnt"; expected one of: sent_at, message_id, context, email, profile_id, device_ip, traits'
    ])
  })

  it('says in plain words what a value should be, never echoing the value', () => {
    const config = defaultConfig()
    config.subscriptions[0].enabled = 'sk_live_do_not_echo'
    config.subscriptions[0].name = ''
    config.identity.email.transform = ['upper']
    config.identity.profile_id.paths = []
    config.skip.types = 'track'
    const problems = problemsOf(config)
    expect(problems).to.deep.equal([
      '/identity/email/transform/0: entry 0 of "transform" must be one of trim, lowercase',
      '/identity/profile_id/paths: "paths" must have at least 1 entry',
      '/skip/types: "types" must be a list whose entries are each one of track, identify, page, screen, group, alias, not a string',
      '/subscriptions/0/name: "name" must not be empty',
      '/subscriptions/0/enabled: "enabled" must be true or false, not a string'
    ])
  })

  it('gives the { "env": NAME } message for an inline secret in every secret field', () => {
    const config = defaultConfig()
    config.koala.publicApiKey = 'pk_1'
    config.auth.sharedSecret = 'shh'
    config.auth.writeKeys = ['wk_1', { env: 'SEGMENT_WRITE_KEY' }]
    const secret = 'a secret must be an { "env": "NAME" } reference; put the value itself in that environment variable'
    expect(problemsOf(config)).to.deep.equal([`/koala/publicApiKey: ${secret}`, `/auth/sharedSecret: ${secret}`, `/auth/writeKeys/0: ${secret}`])
    config.auth.sharedSecret = ['one', 'two']
    config.auth.writeKeys = 'wk_1'
    delete config.koala.publicApiKey
    expect(problemsOf(config)).to.deep.equal([
      `/koala/publicApiKey: required field "publicApiKey" is missing; give it as { "env": "NAME" }`,
      `/auth/sharedSecret/0: ${secret}`,
      `/auth/sharedSecret/1: ${secret}`,
      `/auth/writeKeys: ${secret}`
    ])
    expect(problemsOf(config).join('\n')).not.to.match(/pk_1|shh|wk_1|one|two/)
  })

  it('names a subscription in Segment\'s Public API or Terraform shape, and a whole Segment export, with how to convert it', () => {
    const config = defaultConfig()
    config.subscriptions[0] = { name: 'Track', enabled: true, trigger: 'type = "track"', actionSlug: 'track', actionId: 'a1', settings: { event: { '@path': '$.event' } } }
    config.subscriptions[1] = { name: 'Identify', enabled: true, trigger: 'type = "identify"', action_id: 'a2', settings: '{}' }
    const problems = problemsOf(config)
    expect(problems).to.have.length(2)
    expect(problems[0]).to.match(/^\/subscriptions\/0: this subscription is in Segment's Public API \/ Terraform shape \(trigger, actionId, actionSlug, settings\);.*koala-adapter import FILE/)
    expect(problems[1]).to.match(/^\/subscriptions\/1: .*\(trigger, settings, action_id\).*koala-adapter import FILE/)

    expect(problemsOf({ data: { subscriptions: [] } })).to.deep.equal([
      "/: this is Segment's Public API list of a destination's subscriptions, not a mapping file; convert it with `koala-adapter import FILE` (see the README, \"koala-adapter import\")"
    ])
    expect(problemsOf({ format_version: '1.0', values: { root_module: {} } })[0]).to.match(/^\/: this is `terraform show -json` output, not a mapping file; convert it with `koala-adapter import FILE`/)
  })

  it('refuses a __proto__ key anywhere in the file', () => {
    const text = JSON.stringify(defaultConfig()).replace('"mapping":{', '"mapping":{"__proto__":{"x":1},')
    expect(problemsOf(text)).to.include('/subscriptions/0/mapping/__proto__: this key is not allowed: "__proto__" names a JavaScript prototype')
    expect(({} as Record<string, unknown>).x).to.equal(undefined)
  })

  it('takes "constructor" and "prototype" as ordinary field names', () => {
    const config = defaultConfig()
    config.subscriptions[0].mapping.properties = { constructor: { '@path': '$.event' }, prototype: 'p' }
    const file = path.join(tempDir('mapping-'), 'ws.json')
    writeFileSync(file, JSON.stringify(config))
    const { compiled } = loadMappingFile(file)
    const result = compiled.map({ type: 'track', event: 'Signed Up', messageId: 'm1', context: { traits: { email: 'ada@example.com' } } }) as any
    expect(result.outcome, JSON.stringify(result)).to.equal('send')
    expect(Object.getOwnPropertyNames(result.entries[0].entry.properties)).to.deep.equal(['constructor', 'prototype'])
    expect(result.entries[0].entry.properties.constructor).to.equal('Signed Up')
  })

  it('gives the line and column of a JSON syntax error', () => {
    expect(problemsOf('{\n  "version": 1,\n  oops\n}')).to.deep.equal([
      "/: not valid JSON: Expected double-quoted property name at line 3 column 3"
    ])
  })

  it('reports a missing environment variable with its name and the file', () => {
    expect(() => resolveSecret({ env: 'NOPE_NOT_SET' }, {}, 'mappings/acme.json', '/koala/publicApiKey'))
      .to.throw(AdapterError, 'mappings/acme.json: /koala/publicApiKey: environment variable NOPE_NOT_SET is not set')
    expect(resolveSecret({ env: 'K' }, { K: 'v' }, 'f', '/p')).to.equal('v')
  })

  it('refuses a field given a literal of a type it can never take, at its pointer; directives and nested ones pass', () => {
    const config = defaultConfig()
    Object.assign(config.subscriptions[0].mapping, { event: 5, traits: 'abc', device_ip: { a: 1 }, properties: { plan: { '@path': '$.plan' } } })
    Object.assign(config.subscriptions[1].mapping, { message_id: 12, device_ip: null })
    config.subscriptions[3].mapping.domain = [{ '@path': '$.traits.domain' }, 'acme.com']
    config.subscriptions[3].mapping.group_id = true
    expect(problemsOf(config)).to.deep.equal([
      '/subscriptions/0/mapping/event: "event" must be a string (or a directive that gives one), not a number',
      '/subscriptions/0/mapping/traits: "traits" must be an object (or a directive that gives one), not a string',
      '/subscriptions/0/mapping/device_ip: "device_ip" must be a string (or a directive that gives one), not an object',
      '/subscriptions/3/mapping/group_id: "group_id" must be a string or a number (or a directive that gives one), not a boolean'
    ])
  })

  it('lists the known workspaces when asked for an unknown one', () => {
    expect(() => workspaceFile(path.dirname(DEFAULT), 'acme')).to.throw(/no mapping for workspace "acme" .*known workspaces: default/)
    expect(() => workspaceFile(path.dirname(DEFAULT), '../etc/passwd')).to.throw(/no mapping for workspace/)
  })
})
