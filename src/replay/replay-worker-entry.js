// The file a replay worker thread starts from. Built (dist/), the compiled worker module sits
// next to it. From sources (tests, which run on ts-node), a worker does not inherit the main
// thread's require hook, so it installs the development one (src/swc-hook.js) first.
'use strict'
const path = require('node:path')
const { existsSync } = require('node:fs')
if (!existsSync(path.join(__dirname, 'replay-worker.js'))) require(path.join(__dirname, '..', 'swc-hook.js'))
const { parentPort, workerData } = require('node:worker_threads')
require('./replay-worker').serveReplayWorker(parentPort, workerData)
