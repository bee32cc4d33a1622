// The file a replay worker thread starts from. A worker does not inherit the main
// thread's require hook (swc for the CLI, ts-node under mocha), so it installs the
// product's own before loading the TypeScript worker module.
'use strict'
require('../../bin/swc-hook.js')
const { parentPort, workerData } = require('node:worker_threads')
require('./replay-worker.ts').serveReplayWorker(parentPort, workerData)
