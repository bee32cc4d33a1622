// Preloaded (`node --require`) into a benchmarked child: prints its peak resident set size
// when it exits, which is the only reliable way to read a child's peak (no /usr/bin/time here).
'use strict'
process.on('exit', () => {
  process.stderr.write(`\nmax-rss-kb ${process.resourceUsage().maxRSS}\n`)
})
