// Lets Node require TypeScript sources with no build step: each .ts file is
// transpiled by swc as it is required (type checking is `npm test`'s job, with tsc).
// Installed by the replay's thread entries when they run from sources (a thread does not
// inherit the main thread's hook), and preloaded (`node -r ./src/swc-hook.js`) by the
// benchmarks, so that both sides of every comparison run the same way. It sits at the
// bottom of src/, which the entries and bin/ both look down to; a development tool, it
// is left out of dist/ (tsconfig.build.json), as @swc/core is a development dependency.
//
// Why not ts-node, as in the tests: ts-node loads TypeScript's compiler (49 MB)
// just to read tsconfig.json, and its REPL module loads node:domain, which slows
// every EventEmitter. Measured on a 1M-event replay: 354 MB peak RSS with ts-node,
// 270 MB with this hook; the webhook door spent ~20% of its CPU in domain code.
'use strict'
const fs = require('node:fs')
const Module = require('node:module')
const { transformSync } = require('@swc/core')

// The swc equivalent of tsconfig.json's compilerOptions (ES2022, CommonJS, esModuleInterop, strict).
const SWC_OPTIONS = {
  swcrc: false,
  sourceMaps: 'inline',
  module: { type: 'commonjs', noInterop: false, strictMode: true },
  jsc: {
    parser: { syntax: 'typescript' },
    target: 'es2022',
    keepClassNames: true,
    transform: { useDefineForClassFields: true }
  }
}

// A replay's map threads (see src/replay/intake/map-thread-entry.js) go without source maps:
// Node keeps every module's map parsed, about 8 MB per thread, and a replay's peak memory is
// its goal. Their stack traces then name transpiled lines (swc keeps them close).
const { isMainThread } = require('node:worker_threads')
if (!isMainThread) SWC_OPTIONS.sourceMaps = false

Module._extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...SWC_OPTIONS, filename })
  module._compile(code, filename)
}
if (isMainThread) process.setSourceMapsEnabled(true)
