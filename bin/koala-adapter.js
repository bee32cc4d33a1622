#!/usr/bin/env node
// Runs the TypeScript sources directly: the product is run with ts-node, not a build step.
'use strict'
const path = require('node:path')
require('ts-node').register({
  transpileOnly: true,
  swc: true,
  project: path.join(__dirname, '..', 'tsconfig.json')
})
require('../src/cli.ts').main(process.argv)
