#!/usr/bin/env bash
# Runs each test file given RUNS times (10) while LOOPS busy loops (8) keep this machine's cores
# busy, and prints each file's pass count: the check that a test does not depend on the machine's
# speed (issue 13). The busy loops are killed on any exit, failure or interrupt included.
#   scripts/flaky-check.sh test/koala/koala-client.test.ts test/server/process.test.ts
set -u
cd "$(dirname "$0")/.."
runs=${RUNS:-10}
loops=${LOOPS:-8}
logs=$(mktemp -d "${TMPDIR:-/tmp}/flaky-check-XXXXXX")
node scripts/build.js --if-stale || exit 1

busy=()
stop_busy() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null; done
}
trap stop_busy EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$loops"); do
  node -e 'for(;;){}' &
  busy+=($!)
done

status=0
for file in "$@"; do
  passed=0
  started=$(date +%s)
  for run in $(seq "$runs"); do
    log="$logs/$(basename "$file" .ts)-$run.log"
    if node node_modules/.bin/mocha --no-config -r ts-node/register -r ./test/support/build-dist.ts --extension ts --timeout 20000 "$file" >"$log" 2>&1; then
      passed=$((passed + 1))
    else
      status=1
      echo "  failed: $file, run $run (log: $log)"
    fi
  done
  echo "$file: $passed/$runs passed with $loops busy loops ($(( $(date +%s) - started )) s)"
done
exit $status
