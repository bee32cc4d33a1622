#!/usr/bin/env node
// `npm run build`: compiles src/ into dist/ with tsc (tsconfig.build.json), from a clean dist/ so
// a deleted source leaves no module behind. `--if-stale` builds only when src/ changed since the
// last build: `npm start`, the bench and the test suite use it, so none of them runs old code.
// A development tool: it is not in the package (package.json "files"), which ships dist/ only.
'use strict'
const { spawnSync } = require('node:child_process')
const { existsSync, readdirSync, rmSync, statSync } = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const DIST = path.join(ROOT, 'dist')
const INPUTS = ['src', 'tsconfig.build.json', 'tsconfig.json']

/** Why dist/ cannot be run as the current sources (missing, or older than a named input), or undefined when it can. */
function staleReason(root = ROOT) {
  const mark = path.join(root, 'dist', 'cli.js')
  if (!existsSync(mark)) return 'dist/ has not been built'
  const built = statSync(mark).mtimeMs
  for (const input of INPUTS) {
    const newer = newerThan(path.join(root, input), built)
    if (newer !== undefined) return `${path.relative(root, newer)} changed after the last build`
  }
  return undefined
}

// Folders count too: a deleted or renamed source changes its folder's time, not a file's.
function newerThan(file, time) {
  if (!existsSync(file)) return undefined
  const stat = statSync(file)
  if (stat.mtimeMs > time) return file
  if (!stat.isDirectory()) return undefined
  for (const name of readdirSync(file)) {
    const newer = newerThan(path.join(file, name), time)
    if (newer !== undefined) return newer
  }
  return undefined
}

/** Compiles src/ into a fresh dist/; returns tsc's exit status. */
function build() {
  rmSync(DIST, { recursive: true, force: true })
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] })
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' })
  return run.status ?? 1
}

module.exports = { staleReason, build }

if (require.main === module) {
  const ifStale = process.argv.includes('--if-stale')
  const reason = staleReason()
  if (ifStale && reason === undefined) process.exit(0)
  if (reason !== undefined) process.stderr.write(`building dist/: ${reason}\n`)
  process.exit(build())
}
