import { expect } from 'chai'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { findArchiveFiles } from '../../src/replay/intake/find-archive-files'
import { eventInRange, parseDateRange, parseShard } from '../../src/replay/intake/replay-selection'
import { DAY1, DAY_MS, tempDir, trackEvent, writeArchiveFile } from './archive-fixtures'

/** An archive of 2 sources × 4 days × 3 files, plus files a walk must leave alone. */
function archive(): string {
  const root = path.join(tempDir(), 'bucket', 'prefix')
  for (const source of ['srcA', 'srcB']) {
    for (let day = 0; day < 4; day++) {
      for (let f = 0; f < 3; f++) writeArchiveFile(root, source, DAY1 + day * DAY_MS, `part-${f}.gz`, [[trackEvent(`${source}-${day}-${f}`, 'a@b.co')]])
    }
  }
  const dayDir = path.join(root, 'segment-logs', 'srcA', String(DAY1))
  writeFileSync(path.join(dayDir, 'README.txt'), 'not an archive')
  writeFileSync(path.join(dayDir, '.part-9.gz.partial'), '')
  return root
}

const names = (files: Array<{ absolute: string }>, root: string) => files.map((file) => path.relative(root, file.absolute).split(path.sep).join('/'))

describe('replay: finding archive files', () => {
  it('walks the S3 layout in a stable, chronological order and takes only archive files', () => {
    const root = archive()
    const { files } = findArchiveFiles([root], {}, new Set())
    expect(files).to.have.length(24)
    expect(names(files, root).slice(0, 4)).to.deep.equal([
      `segment-logs/srcA/${DAY1}/part-0.gz`,
      `segment-logs/srcA/${DAY1}/part-1.gz`,
      `segment-logs/srcA/${DAY1}/part-2.gz`,
      `segment-logs/srcA/${DAY1 + DAY_MS}/part-0.gz`
    ])
    expect(files.every((file) => file.size > 0)).to.equal(true)
  })

  it('skips whole day folders outside --from/--to by their names, and filters --source', () => {
    const root = archive()
    const selection = { ...parseDateRange('2026-11-02', '2026-11-03'), sources: new Set(['srcB']) }
    const { files } = findArchiveFiles([root], selection, new Set())
    expect(new Set(names(files, root).map((name) => name.split('/').slice(1, 3).join('/')))).to.deep.equal(
      new Set([`srcB/${DAY1 + DAY_MS}`, `srcB/${DAY1 + 2 * DAY_MS}`])
    )
  })

  it('splits the files into shards: together they are every file, each exactly once', () => {
    const root = archive()
    const all = names(findArchiveFiles([root], {}, new Set()).files, root)
    const shards = [1, 2, 3].map((k) => names(findArchiveFiles([root], { shard: parseShard(`${k}/3`) }, new Set()).files, root))
    expect(shards.flat().sort()).to.deep.equal([...all].sort())
    expect(shards.every((shard) => shard.length > 0)).to.equal(true)
    // The split hangs on the path from segment-logs/ on, so another mount point splits the same way.
    const elsewhere = path.join(tempDir(), 'mnt', 'archive')
    mkdirSync(elsewhere, { recursive: true })
    for (const name of shards[1]) writeArchiveFile(elsewhere, name.split('/')[1], Number(name.split('/')[2]), name.split('/')[3], [[]])
    const again = names(findArchiveFiles([elsewhere], { shard: parseShard('2/3') }, new Set()).files, elsewhere)
    expect(again).to.deep.equal(shards[1])
  })

  it('takes a named file whatever its name, once, and never the files the run writes', () => {
    const root = archive()
    const file = path.join(root, 'segment-logs', 'srcA', String(DAY1), 'README.txt')
    const own = path.join(root, 'segment-logs', 'srcA', String(DAY1), 'part-0.gz')
    const { files } = findArchiveFiles([file, file, path.join(root, 'segment-logs', 'srcA', String(DAY1))], {}, new Set([own]))
    expect(names(files, root)).to.deep.equal([
      `segment-logs/srcA/${DAY1}/README.txt`,
      `segment-logs/srcA/${DAY1}/part-1.gz`,
      `segment-logs/srcA/${DAY1}/part-2.gz`
    ])
  })

  it('reads --from/--to as dates (whole UTC days) or exact date-times, and refuses anything else', () => {
    expect(parseDateRange('2026-11-01', '2026-11-01')).to.deep.equal({ fromMs: DAY1, toMs: DAY1 + DAY_MS })
    expect(parseDateRange(undefined, '2026-11-01T12:00:00Z')).to.deep.equal({ fromMs: undefined, toMs: DAY1 + 12 * 3600_000 })
    expect(() => parseDateRange('yesterday', undefined)).to.throw(/--from must be an ISO date/)
    expect(() => parseDateRange('2026-11-02', '2026-11-01')).to.throw(/--to .* must come after --from/)
    expect(() => parseShard('4/3')).to.throw(/--shard must be K\/N/)
    const range = parseDateRange('2026-11-01', '2026-11-01')
    expect(eventInRange({ timestamp: '2026-11-01T23:59:59.999Z' }, range)).to.equal(true)
    expect(eventInRange({ timestamp: '2026-11-02T00:00:00Z' }, range)).to.equal(false)
    expect(eventInRange({ originalTimestamp: '2026-11-01T08:00:00Z' }, range)).to.equal(true)
    expect(eventInRange({}, range)).to.equal(false)
  })
})

describe('replay: links in an archive folder', () => {
  it('reads a file reached through a link once, walks a link loop once, and reports a broken link', () => {
    const root = tempDir()
    const file = writeArchiveFile(root, 'src', DAY1, 'a.gz', [[trackEvent('l1', 'ada@example.com')]])
    const day = path.dirname(file)
    symlinkSync(day, path.join(root, 'latest'))
    symlinkSync(root, path.join(day, 'loop'))
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'broken'))
    const found = findArchiveFiles([root], {}, new Set())
    expect(found.files.map((f) => path.basename(f.absolute))).to.deep.equal(['a.gz'])
    expect(found.skipped).to.have.length(1)
    expect(found.skipped[0]).to.match(/broken: a link that cannot be followed \(ENOENT\): skipped$/)
  })
})

describe('replay: time selection edge cases', () => {
  it('refuses an impossible date instead of rolling it over', () => {
    expect(() => parseDateRange('2026-02-30', undefined)).to.throw(/--from must be an ISO date/)
    expect(() => parseDateRange(undefined, '2026-02-31T10:00:00Z')).to.throw(/--to must be an ISO date/)
    expect(parseDateRange('2026-02-28', undefined).fromMs).to.equal(Date.UTC(2026, 1, 28))
  })

  it('reads an event time without a zone as UTC, whatever the machine\'s zone', () => {
    // In a zone west of UTC, 23:30 local is the next day in UTC: the test means something only off UTC.
    const zone = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      expect(new Date('2026-11-01 23:30:00').getUTCDate()).to.equal(2)
      const selection = parseDateRange('2026-11-01', '2026-11-01')
      expect(eventInRange({ timestamp: '2026-11-01 23:30:00' }, selection)).to.equal(true)
      expect(eventInRange({ timestamp: '2026-11-02T00:30:00' }, selection)).to.equal(false)
      expect(eventInRange({ timestamp: '2026-11-02T00:30:00+02:00' }, selection)).to.equal(true)
    } finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
  })
})
