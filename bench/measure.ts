/**
 * Timing for benchmarks: runs the contenders in alternating rounds on the same
 * data and keeps each one's median, so a noisy neighbour hits both alike.
 */
export type Contender = { name: string; run: () => number }

export function compare(contenders: Contender[], rounds = 7): Map<string, { perSecond: number; items: number; ms: number }> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]))
  const items = new Map<string, number>()
  for (const contender of contenders) contender.run() // warm-up: JIT and caches
  for (let round = 0; round < rounds; round++) {
    for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      const start = process.hrtime.bigint()
      const count = contender.run()
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      samples.get(contender.name)!.push(ms)
      items.set(contender.name, count)
    }
  }
  const result = new Map<string, { perSecond: number; items: number; ms: number }>()
  for (const [name, times] of samples) {
    const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
    const count = items.get(name)!
    result.set(name, { perSecond: (count / ms) * 1000, items: count, ms })
  }
  return result
}

export function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M/s` : `${(perSecond / 1e3).toFixed(1)}k/s`
}
