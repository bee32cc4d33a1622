// The suite's tests run on the TypeScript sources (ts-node), but the ones that spawn the CLI run
// bin/koala-adapter.js, which runs the build in dist/. This builds it first when src/ changed
// since the last build (about 10 s of CPU), so those tests always run the current sources.
// Loaded by .mocharc.json; a lone file run with --no-config needs `-r ./test/support/build-dist.ts`.
import path from 'node:path'

const ROOT = path.join(__dirname, '..', '..')

// A JavaScript development script, shared with `npm start` and the bench.
const { staleReason, build } = require(path.join(ROOT, 'scripts', 'build.js')) as {
  staleReason(): string | undefined
  build(): number
}

/** Builds dist/ if it is missing or older than src/; a failed build stops the run. */
export function mochaGlobalSetup(): void {
  const reason = staleReason()
  if (reason === undefined) return
  process.stderr.write(`building dist/ for the tests that run the CLI: ${reason}\n`)
  if (build() !== 0) throw new Error('npm run build failed: the tests that run the CLI cannot run')
}
