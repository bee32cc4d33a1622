#!/usr/bin/env node
// Runs the TypeScript sources directly with ts-node (swc transpiler): no build step.
'use strict'
const path = require('node:path')
const Module = require('node:module')

// ts-node's index loads its REPL module, and with it Node's `repl`, which loads
// `domain`; once `domain` is loaded every EventEmitter pays for domain bookkeeping
// (measured: ~20% of the webhook door's CPU). We never start ts-node's REPL, so its
// module is replaced by a stub before ts-node is loaded.
const replFile = path.join(path.dirname(require.resolve('ts-node')), 'repl.js')
const stub = new Module(replFile)
stub.filename = replFile
stub.loaded = true
stub.exports = {
  createRepl() {
    throw new Error('the ts-node REPL is not available inside koala-adapter')
  }
}
require.cache[replFile] = stub

require('ts-node').register({
  transpileOnly: true,
  swc: true,
  project: path.join(__dirname, '..', 'tsconfig.json')
})
require('../src/cli.ts').main(process.argv)
