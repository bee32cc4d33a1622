import { tempDir } from '../temp-dir'
import { expect } from 'chai'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { AdapterError, MappingProblems } from '../../src/errors'
import { loadMappingFile, parseMappingText, resolveSecret, workspaceFile } from '../../src/mapping/load-mapping'
import { JSON_SCHEMA_PATH, mappingJsonSchema } from '../../src/mapping/write-json-schema'

const DEFAULT = path.join(__dirname, '..', '..', 'mappings', 'default.json')
const defaultConfig = () => JSON.parse(readFileSync(DEFAULT, 'utf8'))

/** The problems a mapping text has, as `<pointer>: <message>` lines. */
function problemsOf(config: unknown): string[] {
  const text = typeof config === 'string' ? config : JSON.stringify(config)
  try {
    parseMappingText(text)
  } catch (error) {
    if (error instanceof MappingProblems) return error.problems.map((problem) => problem.message)
    throw error
  }
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
    const problems = problemsOf(config)
    expect(problems).to.have.length(3)
    expect(problems).to.include("/subscriptions/1/partnerAction: Invalid discriminator value. Expected 'track' | 'identify' | 'page' | 'group'")
    expect(problems).to.include('/version: Invalid input: expected 1')
    expect(problems).to.include(
      '/koala/publicApiKey: a secret must be an { "env": "NAME" } reference; put the value itself in that environment variable'
    )
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

  it('lists the known workspaces when asked for an unknown one', () => {
    expect(() => workspaceFile(path.dirname(DEFAULT), 'acme')).to.throw(/no mapping for workspace "acme" .*known workspaces: default/)
    expect(() => workspaceFile(path.dirname(DEFAULT), '../etc/passwd')).to.throw(/no mapping for workspace/)
  })
})
