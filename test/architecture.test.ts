import { expect } from 'chai'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { tempDir } from './support/temp-dir'

// madge ships no types: the part of its API used here.
type MadgeResult = { circular(): string[][]; obj(): Record<string, string[]> }
const madge = require('madge') as (root: string, config: Record<string, unknown>) => Promise<MadgeResult>

const ROOT = path.join(__dirname, '..')
const SRC = path.join(ROOT, 'src')
const MADGE_CONFIG = { fileExtensions: ['ts', 'js'], tsConfig: path.join(ROOT, 'tsconfig.json') }

/** A file may grow to a few hundred lines (STYLE.md, habit 1); past this it is listed below with its reason, or split. */
const MAX_LINES = 300

/** Files over MAX_LINES, each with the most lines it may have and why it is not split (yet). */
const LONG_FILES: Record<string, { maxLines: number; why: string }> = {
  'mapping/fql-lint.ts': {
    maxLines: 600,
    why: 'one recursive-descent grammar of the FQL forms whose reading was checked against parseFql one by one; its parts call each other and are only read together'
  },
  'mapping/kit/compile-mapping-kit.ts': {
    maxLines: 320,
    why: 'its header documents the deliberate differences from Segment\'s transform() (also exported and tested); the code itself is under 300 lines'
  }
}

/** Files that may still make a plain Error, each with why (none: every error is an AdapterError). */
const PLAIN_ERRORS: Record<string, string> = {}

/** Each line of `text` that makes or defines an error outside AdapterError, as `line: text`. */
function plainErrors(text: string): string[] {
  return text.split('\n').flatMap((line, i) => (/\bnew Error\(|\bextends Error\b/.test(line) ? [`${i + 1}: ${line.trim()}`] : []))
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return /\.(ts|js)$/.test(entry.name) ? [full] : []
  })
}

describe('the shape of src/', function () {
  this.timeout(60_000)

  it('has no import cycles, type imports included (madge)', async () => {
    const result = await madge(SRC, MADGE_CONFIG)
    // madge saw the whole tree (a wrong configuration would find nothing, and so no cycle).
    expect(Object.keys(result.obj()).length).to.be.above(100)
    // A type-only import: madge sees those too.
    expect(result.obj()['replay/run-replay.ts']).to.include('replay/intake/line-mapper.ts')
    expect(result.circular().map((cycle) => cycle.join(' > '))).to.deep.equal([])
  })

  it('would see a cycle: two files that import each other', async () => {
    const dir = tempDir('cycle-')
    writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b'\nexport type A = { b?: B }\n")
    writeFileSync(path.join(dir, 'b.ts'), "import type { A } from './a'\nexport type B = { a?: A }\n")
    const result = await madge(dir, MADGE_CONFIG)
    expect(result.circular()).to.deep.equal([['a.ts', 'b.ts']])
  })

  it('throws only AdapterErrors, each with a registered code: no `new Error(` or `extends Error` outside errors.ts', () => {
    // The scan would see one: errors.ts's own base class.
    expect(plainErrors(readFileSync(path.join(SRC, 'errors.ts'), 'utf8'))).to.have.length(1)
    const found: Record<string, string[]> = {}
    for (const file of sourceFiles(SRC)) {
      const name = path.relative(SRC, file).split(path.sep).join('/')
      const lines = name === 'errors.ts' ? [] : plainErrors(readFileSync(file, 'utf8'))
      if (lines.length > 0) found[name] = lines
    }
    const unlisted = Object.entries(found).filter(([name]) => PLAIN_ERRORS[name] === undefined)
    expect(unlisted, 'throw an AdapterError (src/errors.ts) with a registered code instead').to.deep.equal([])
    const stale = Object.keys(PLAIN_ERRORS).filter((name) => found[name] === undefined)
    expect(stale, 'listed in PLAIN_ERRORS but no longer making plain errors: take them off').to.deep.equal([])
  })

  it(`keeps every file to ${MAX_LINES} lines, but for the few listed with their reason`, () => {
    const long: Record<string, number> = {}
    for (const file of sourceFiles(SRC)) {
      const lines = readFileSync(file, 'utf8').split('\n').length - 1
      if (lines > MAX_LINES) long[path.relative(SRC, file).split(path.sep).join('/')] = lines
    }
    const over = Object.entries(long).filter(([file, lines]) => lines > (LONG_FILES[file]?.maxLines ?? MAX_LINES))
    expect(over, 'files over their limit: split them, or list them in LONG_FILES with a reason').to.deep.equal([])
    const stale = Object.keys(LONG_FILES).filter((file) => long[file] === undefined)
    expect(stale, 'listed in LONG_FILES but no longer long: take them off').to.deep.equal([])
  })
})
