// The file the SQLite queue thread starts from. It loads the compiled module next to it when
// built (dist/), and installs the development require hook (a thread does not inherit the main
// thread's) only when run from sources.
'use strict'
const path = require('node:path')
const { existsSync } = require('node:fs')
if (!existsSync(path.join(__dirname, 'sqlite-thread.js'))) require(path.join(__dirname, '..', 'swc-hook.js'))
const { parentPort, workerData } = require('node:worker_threads')
require('./sqlite-thread').serveSqliteThread(parentPort, workerData)
