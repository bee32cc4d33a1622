/** `3m 12s`: a duration in its two largest units (d, h, m, s); `0s` under a second. */
export function durationText(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000]
  ]
  const parts: string[] = []
  let rest = Math.max(0, Math.floor(ms))
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size)
    rest -= count * size
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`)
    if (parts.length === 2) break
  }
  return parts.length === 0 ? '0s' : parts.join(' ')
}

/** `512 B`, `1.5 KiB`, `3.2 GiB`: a byte count for a person. */
export function bytesText(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  if (bytes < 1024) return `${bytes} B`
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/** Rows as lines of columns aligned by padding; the last column is not padded, so a long one (a reason) only trails. */
export function tableLines(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const all = [header, ...rows]
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column].length)))
  return all.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  '))
}

/** `1 dead letter`, `3 dead letters`: a count with its noun. */
export function countText(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`
}
