/**
 * One position of an input: a decoded line, or why it could not be decoded. `line` is
 * 1-based. The line's text is not kept: V8 slices lines out of the chunk they came in,
 * so holding one would hold the whole chunk for as long as its event waits.
 */
export type ArchiveLine = { line: number; value: unknown; error?: undefined } | { line: number; error: string }

import { isJsonObject } from '../../json/json-object'
import { LINE_TOO_LONG, type ArchiveText } from './read-archive-lines'
import { describeJsonError } from '../../json/describe-json-error'
import { AdapterError } from '../../errors'

export type ParseLinesOptions = {
  /** Lines below this were settled by an earlier run (except `reread`): counted, never parsed. */
  skipBelow: number
  /** Lines below `skipBelow` an earlier run left unsettled, ascending: read again. */
  reread?: readonly number[]
  /** The most a multi-line JSON document may hold (it is the one input that is not streamed); also the line limit. */
  maxDocumentBytes: number
}

/**
 * One position of an input before parsing: a line's text, why it cannot be read, or a
 * whole multi-line JSON document that starts at `line` (with the first line a resumed
 * run reads, since a document that is not one value splits into values at their lines).
 */
export type FramedLine =
  | { line: number; text: string }
  | { line: number; error: string }
  | { line: number; document: string[]; skipBelow: number; reread: readonly number[] }

export type FramedBatch = {
  items: FramedLine[]
  /** The last physical line this batch covers, blank and skipped ones included. */
  lastLine: number
}

/**
 * Frames NDJSON lines, one JSON value each, for parsing (parseFramedLines, in a line
 * mapper): numbers the lines, skips those below `skipBelow`, reports lines too long.
 * A file whose first line is only an opening bracket (a pretty-printed `.json` export,
 * an event copied from Segment's debugger) is gathered as ONE document at that line, up
 * to `maxDocumentBytes`; that decision rests on the first line alone, so a checkpoint
 * means the same thing when a run resumes.
 */
export async function* frameArchiveLines(batches: AsyncIterable<ArchiveText[]>, options: ParseLinesOptions): AsyncGenerator<FramedBatch> {
  const wanted = wantedLines(options.skipBelow, options.reread ?? [])
  let line = 0
  let sawFirst = false
  let document: string[] | undefined
  let documentLine = 0
  let documentChars = 0
  for await (const lines of batches) {
    const items: FramedLine[] = []
    for (const text of lines) {
      line++
      if (text === LINE_TOO_LONG) {
        if (document !== undefined) throw new AdapterError('INPUT_INVALID', `line ${line} is longer than ${options.maxDocumentBytes} bytes, inside the JSON document of line ${documentLine}`)
        sawFirst = true
        if (wanted(line)) items.push({ line, error: `the line is longer than ${options.maxDocumentBytes} bytes: skipped` })
        continue
      }
      if (document !== undefined) {
        documentChars += text.length + 1
        if (documentChars > options.maxDocumentBytes) {
          throw new AdapterError('INPUT_INVALID', `line ${documentLine} opens a JSON document that is not NDJSON and is longer than ${options.maxDocumentBytes} bytes`)
        }
        document.push(text)
        continue
      }
      if (!sawFirst && text.trim() !== '') {
        sawFirst = true
        if (DOCUMENT_OPENING.test(text)) {
          document = [text]
          documentLine = line
          documentChars = text.length
          continue
        }
      }
      if (text !== '' && wanted(line)) items.push({ line, text })
    }
    if (document === undefined) yield { items, lastLine: line }
  }
  if (document !== undefined) yield { items: [{ line: documentLine, document, skipBelow: options.skipBelow, reread: options.reread ?? [] }], lastLine: line }
}

/** Parses framed lines into values (or errors), blank lines left out. */
export function parseFramedLines(framed: readonly FramedLine[]): ArchiveLine[] {
  const items: ArchiveLine[] = []
  for (const item of framed) {
    if ('text' in item) {
      const parsed = parseLine(item.line, item.text)
      if (parsed !== BLANK) items.push(parsed)
    } else if ('error' in item) items.push(item)
    else items.push(...parseDocument(item.document, item.line, wantedLines(item.skipBelow, item.reread)))
  }
  return items
}

/** Whether a resumed run reads a line: from `skipBelow` on, and the `reread` lines below it. */
function wantedLines(skipBelow: number, reread: readonly number[]): (line: number) => boolean {
  if (reread.length === 0) return (line) => line >= skipBelow
  const again = new Set(reread)
  return (line) => line >= skipBelow || again.has(line)
}

function parseDocument(document: string[], documentLine: number, wanted: (line: number) => boolean): ArchiveLine[] {
  let value: unknown
  try {
    value = JSON.parse(document.join('\n'))
  } catch {
    // Not one document: pretty-printed values one after another (`jq .` output), else
    // an NDJSON file whose first line is only a bracket, read as lines.
    const values = concatenatedValues(document, documentLine)
    const items = values ?? document.map((lineText, i) => parseLine(documentLine + i, lineText))
    return items.filter((item) => item !== BLANK && wanted(item.line))
  }
  return wanted(documentLine) ? [{ line: documentLine, value }] : []
}

/** What JSON.stringify(x, null, 2), jq and Python's json.dump(indent=…) put on a document's first line. */
const DOCUMENT_OPENING = /^\s*[[{]\s*[[{]?\s*$/

const BLANK: ArchiveLine = { line: 0, error: 'blank' }

function parseLine(line: number, text: string): ArchiveLine {
  try {
    return { line, value: JSON.parse(text) }
  } catch (error) {
    if (text.trim() === '') return BLANK
    // Objects written one after another on one line: a gzip member (or a file) whose last line lacked its
    // newline, joined to the next one's first line. Every event is there; the line holds them all.
    const values = concatenatedValues([text], line)?.map((item) => (item.error === undefined ? item.value : undefined))
    if (values !== undefined && values.every(isJsonObject)) return { line, value: values }
    return { line, error: `malformed JSON: ${describeJsonError(error as Error)}` }
  }
}

/**
 * Splits lines holding JSON objects or arrays written one after another into one item
 * per value, each at the line where it starts; undefined when the text is not that.
 */
function concatenatedValues(lines: readonly string[], firstLine: number): ArchiveLine[] | undefined {
  const items: ArchiveLine[] = []
  let depth = 0
  let inString = false
  let escaped = false
  let start: { line: number; index: number; char: number } | undefined
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]
    for (let char = 0; char < text.length; char++) {
      const c = text[char]
      if (inString) {
        if (escaped) escaped = false
        else if (c === '\\') escaped = true
        else if (c === '"') inString = false
        continue
      }
      if (c === '"') inString = true
      else if (c === '{' || c === '[') {
        if (depth === 0) start = { line: firstLine + index, index, char }
        depth++
      } else if (c === '}' || c === ']') {
        depth--
        if (depth < 0) return undefined
        if (depth === 0 && start !== undefined) {
          const parts = lines.slice(start.index, index + 1)
          parts[0] = parts[0].slice(start.char)
          parts[parts.length - 1] = parts[parts.length - 1].slice(0, parts.length === 1 ? char - start.char + 1 : char + 1)
          try {
            items.push({ line: start.line, value: JSON.parse(parts.join('\n')) })
          } catch {
            return undefined
          }
          start = undefined
        }
      } else if (depth === 0 && c.trim() !== '') return undefined
    }
  }
  return depth === 0 && items.length > 1 ? items : undefined
}
