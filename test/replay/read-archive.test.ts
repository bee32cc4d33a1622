import { expect } from 'chai'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { frameArchiveLines, parseFramedLines, type ArchiveLine } from '../../src/replay/intake/parse-archive-lines'
import { readArchiveLines } from '../../src/replay/intake/read-archive-lines'
import { ndjson, trackEvent } from './archive-fixtures'

/** Feeds `bytes` in small chunks, as a slow disk or a pipe would. */
function chunked(bytes: Buffer, size = 7): AsyncIterable<Buffer> {
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
  return Readable.from(chunks)
}

async function readAll(bytes: Buffer, skipBelow = 1, size?: number, reread: number[] = []): Promise<{ items: ArchiveLine[]; error?: Error; lastLine: number }> {
  const items: ArchiveLine[] = []
  let lastLine = 0
  try {
    const lines = readArchiveLines(chunked(bytes, size), { maxLineBytes: 10_000 })
    // Framed here and parsed at once, as a line mapper parses each framed batch.
    for await (const batch of frameArchiveLines(lines, { skipBelow, reread, maxDocumentBytes: 10_000 })) {
      items.push(...parseFramedLines(batch.items))
      lastLine = batch.lastLine
    }
    return { items, lastLine }
  } catch (error) {
    return { items, error: error as Error, lastLine }
  }
}

const ids = (items: ArchiveLine[]) => items.map((item) => (item.error === undefined ? (item.value as { messageId: string }).messageId : `!${item.line}`))

describe('replay: reading archive lines', () => {
  const events = Array.from({ length: 5 }, (_, i) => trackEvent(`m${i + 1}`, 'ada@example.com'))

  it('reads every member of a multi-member gzip, recognised by its bytes, not its name', async () => {
    const bytes = Buffer.concat([gzipSync(ndjson(events.slice(0, 2))), gzipSync(ndjson(events.slice(2)))])
    const { items, error } = await readAll(bytes)
    expect(error).to.equal(undefined)
    expect(ids(items)).to.deep.equal(['m1', 'm2', 'm3', 'm4', 'm5'])
    expect(items.map((item) => item.line)).to.deep.equal([1, 2, 3, 4, 5])
  })

  it('keeps both events when a gzip member lacks its last newline: the joined line holds them as a list', async () => {
    const withoutNewline = ndjson(events.slice(0, 2)).replace(/\n$/, '')
    const bytes = Buffer.concat([gzipSync(withoutNewline), gzipSync(ndjson(events.slice(2)))])
    const { items, error } = await readAll(bytes)
    expect(error).to.equal(undefined)
    expect(items.map((item) => item.line)).to.deep.equal([1, 2, 3, 4])
    const joined = items[1] as { value: Array<{ messageId: string }> }
    expect(joined.value.map((event) => event.messageId)).to.deep.equal(['m2', 'm3'])
    // Text that is not objects one after another stays a malformed line.
    const { items: bad } = await readAll(Buffer.from('{"type":"track"}{"email": "ada@example.com"\n{"a":1} 7\n'))
    expect(bad.map((item) => item.error?.replace(/:.*/, ''))).to.deep.equal(['malformed JSON', 'malformed JSON'])
  })

  it('reads plain NDJSON with CRLF, blank lines and a last line without newline, multibyte characters across chunks', async () => {
    const text = `${JSON.stringify(events[0])}\r\n\r\n${JSON.stringify({ ...events[1], event: 'Grüße 👋' })}\n${JSON.stringify(events[2])}`
    const { items } = await readAll(Buffer.from(text), 1, 3)
    expect(ids(items)).to.deep.equal(['m1', 'm2', 'm3'])
    expect(items.map((item) => item.line)).to.deep.equal([1, 3, 4])
    expect((items[1] as { value: { event: string } }).value.event).to.equal('Grüße 👋')
  })

  it('reports a malformed line by its number without quoting it, and reads on', async () => {
    const text = `${JSON.stringify(events[0])}\n{"email":"secret@example.com",\n${JSON.stringify(events[1])}\n`
    const { items } = await readAll(Buffer.from(text))
    expect(ids(items)).to.deep.equal(['m1', '!2', 'm2'])
    const error = (items[1] as { error: string }).error
    expect(error).to.match(/^malformed JSON: /)
    expect(error).not.to.contain('secret')
  })

  it('gives the lines before a truncated gzip, then throws the gzip error', async () => {
    const whole = gzipSync(ndjson(Array.from({ length: 400 }, (_, i) => trackEvent(`t${i}`, 'ada@example.com'))))
    const { items, error, lastLine } = await readAll(whole.subarray(0, Math.floor(whole.length * 0.7)), 1, 512)
    expect(error).to.have.property('code', 'Z_BUF_ERROR')
    expect(items.length).to.be.greaterThan(100)
    expect(lastLine).to.equal(items.length)
  })

  it('throws on a corrupt member after the members before it', async () => {
    const bad = gzipSync(ndjson(events.slice(2)))
    bad[bad.length - 6] ^= 0xff // the CRC: the member decodes, then fails its check
    const { items, error } = await readAll(Buffer.concat([gzipSync(ndjson(events.slice(0, 2))), bad]), 1, 16)
    expect(error).to.have.property('code', 'Z_DATA_ERROR')
    expect(ids(items).slice(0, 2)).to.deep.equal(['m1', 'm2'])
  })

  it('skips the lines a checkpoint says are settled, without parsing them', async () => {
    const text = `${JSON.stringify(events[0])}\nnot json\n${JSON.stringify(events[1])}\n${JSON.stringify(events[2])}\n`
    const { items, lastLine } = await readAll(Buffer.from(text), 3)
    expect(ids(items)).to.deep.equal(['m2', 'm3'])
    expect(lastLine).to.equal(4)
  })

  it('reads again the lines a checkpoint keeps as unsettled below its next line, and only those', async () => {
    const text = ndjson([events[0], events[1], events[2], { ...events[0], messageId: 'm4' }, { ...events[0], messageId: 'm5' }])
    const { items } = await readAll(Buffer.from(text), 5, undefined, [2, 4])
    expect(ids(items)).to.deep.equal(['m2', 'm4', 'm5'])
    // Pretty-printed values one after another (jq output): a pending value is read again by its first line.
    const jq = [events[0], events[1], events[2]].map((event) => JSON.stringify(event, null, 2)).join('\n') + '\n'
    const secondAt = jq.split('\n').findIndex((line, i) => i > 0 && line === '{') + 1
    const again = await readAll(Buffer.from(jq), 10_000, undefined, [secondAt])
    expect(ids(again.items)).to.deep.equal(['m2'])
  })

  it('reads a pretty-printed JSON document as one position, and a bracket-first NDJSON file as lines', async () => {
    const pretty = JSON.stringify(events.slice(0, 3), null, 2)
    const { items } = await readAll(Buffer.from(pretty))
    expect(items).to.have.length(1)
    expect(items[0].line).to.equal(1)
    expect((items[0] as { value: unknown[] }).value).to.have.length(3)
    expect((await readAll(Buffer.from(pretty), 2)).items).to.deep.equal([])

    const notADocument = `{\n${JSON.stringify(events[0])}\n${JSON.stringify(events[1])}\n`
    expect(ids((await readAll(Buffer.from(notADocument))).items)).to.deep.equal(['!1', 'm1', 'm2'])
  })

  it('skips a line that outgrows the limit, reports it by number, and reads the lines after it', async () => {
    const text = `${JSON.stringify(events[0])}\n${'x'.repeat(20_000)}\n${JSON.stringify(events[1])}\n${'y'.repeat(20_000)}`
    const { items, error } = await readAll(Buffer.from(text), 1, 1000)
    expect(error).to.equal(undefined)
    expect(ids(items)).to.deep.equal(['m1', '!2', 'm2', '!4'])
    expect(items[1]).to.deep.equal({ line: 2, error: 'the line is longer than 10000 bytes: skipped' })
  })

  it('joins a long line that arrives in many small chunks, whole', async () => {
    const long = { ...events[0], properties: { pad: 'z'.repeat(9_000) } }
    const { items } = await readAll(Buffer.from(`${JSON.stringify(long)}\n${JSON.stringify(events[1])}\n`), 1, 13)
    expect(items.map((item: any) => item.value.properties?.pad?.length ?? item.value.messageId)).to.deep.equal([9_000, 'm2'])
  })

  it('reads pretty-printed objects written one after another (jq output), each at its first line', async () => {
    const text = events.slice(0, 3).map((event) => JSON.stringify({ ...event, note: 'a } and a { in "quotes"' }, null, 2)).join('\n')
    const { items } = await readAll(Buffer.from(text))
    expect(ids(items)).to.deep.equal(['m1', 'm2', 'm3'])
    expect(items[1].line).to.equal(text.split('\n').findIndex((line, i) => i > 0 && line === '{') + 1)
  })

  it('drops a leading UTF-8 byte order mark', async () => {
    const { items } = await readAll(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ndjson(events.slice(0, 2)))]))
    expect(ids(items)).to.deep.equal(['m1', 'm2'])
  })
})
