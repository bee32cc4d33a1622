// Preloaded (`node --require`) into a benchmarked child: prints its peak resident set size and
// the CPU time of all its threads when it exits, which is the only reliable way to read a
// child's peak (no /usr/bin/time here).
'use strict'
process.on('exit', () => {
  const cpu = process.cpuUsage()
  process.stderr.write(`\nmax-rss-kb ${process.resourceUsage().maxRSS} cpu-us ${cpu.user + cpu.system}\n`)
})
