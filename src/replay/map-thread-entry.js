// The file a replay map thread starts from. Like replay-worker-entry.js, it installs the
// product's require hook (a thread does not inherit the main thread's) before loading TypeScript.
'use strict'
require('../../bin/swc-hook.js')
const { parentPort, workerData } = require('node:worker_threads')
require('./map-thread.ts').serveMapThread(parentPort, workerData)
