#!/usr/bin/env node
// Runs the TypeScript sources directly, no build step (see swc-hook.js for why not ts-node).
'use strict'
require('./swc-hook')
require('../src/cli.ts').main(process.argv)
