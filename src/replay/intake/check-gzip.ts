import { Readable, pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'

/** Inflated and thrown away in pieces this large: fewer trips through the stream than zlib's 16 KB. */
const CHECK_CHUNK_BYTES = 256 * 1024

/**
 * Whether a gzip input decompresses whole: undefined when it does, is not gzip, or only ends
 * early (a truncated file, an upload still going: what precedes the cut is sound, and is read);
 * else why it is damaged. Damage inside deflate data mostly decodes to garbage up to the end,
 * where only the CRC says so: a file must be checked whole before any line of it is trusted.
 */
export async function findGzipDamage(source: AsyncIterable<Buffer>): Promise<string | undefined> {
  const iterator = source[Symbol.asyncIterator]()
  let first: IteratorResult<Buffer>
  try {
    first = await iterator.next()
  } catch {
    // Unreadable: reading the file says so, with where.
    return undefined
  }
  if (first.done === true || first.value[0] !== 0x1f || first.value[1] !== 0x8b) {
    await iterator.return?.()
    return undefined
  }
  const raw = (async function* () {
    try {
      for (let next: IteratorResult<Buffer> = first; next.done !== true; next = await iterator.next()) yield next.value
    } finally {
      await iterator.return?.()
    }
  })()
  const gunzip = createGunzip({ chunkSize: CHECK_CHUNK_BYTES })
  pipeline(Readable.from(raw), gunzip, () => {})
  try {
    for await (const _ of gunzip) {
      // The bytes are not needed: only whether they all decompress.
    }
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException
    if (code === 'Z_BUF_ERROR' || typeof code !== 'string' || !code.startsWith('Z_')) return undefined
    return message
  }
  return undefined
}
