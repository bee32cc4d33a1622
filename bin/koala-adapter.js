#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/ (`npm run build`): no TypeScript at run time.
'use strict'
const path = require('node:path')
const { existsSync } = require('node:fs')

// In a checkout (the package has no scripts/), refuse a dist/ older than src/: running
// yesterday's build after an edit would pass or fail for the wrong reason.
const BUILD_SCRIPT = path.join(__dirname, '..', 'scripts', 'build.js')
if (existsSync(BUILD_SCRIPT)) {
  const reason = require(BUILD_SCRIPT).staleReason()
  if (reason !== undefined) {
    process.stderr.write(`koala-adapter: ${reason}: run \`npm run build\` first\n`)
    process.exit(2)
  }
}
require('../dist/cli.js').main(process.argv)
