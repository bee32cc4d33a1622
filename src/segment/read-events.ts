import { BatchEnvelope } from './event-schema'
import { isJsonObject } from '../json/json-object'

/** One item of input: the decoded value, or why it could not be decoded, and where it came from. */
export type InputItem =
  | { where: string; value: unknown; error?: undefined }
  | { where: string; value?: undefined; error: string }

/**
 * Splits a text of events into items, whichever of Segment's shapes it has: one JSON
 * object, a JSON array, a `/v1/batch` envelope, or NDJSON. A malformed NDJSON line
 * becomes an item with an error; the lines after it are still read.
 */
export function readEvents(text: string, source = 'input'): InputItem[] {
  const trimmed = text.trim()
  if (trimmed === '') return []
  const first = trimmed[0]
  if (first === '[' || first === '{') {
    let whole: unknown
    let parsedWhole = false
    try {
      whole = JSON.parse(trimmed)
      parsedWhole = true
    } catch {
      // Not one JSON document: NDJSON (one event per line), handled below.
    }
    if (parsedWhole) return itemsOfDocument(whole, source)
  }
  return readNdjson(trimmed, source)
}

/** Whether a decoded document holds many events (a JSON array, a /v1/batch envelope) rather than being one. */
export function holdsManyEvents(document: unknown): boolean {
  return Array.isArray(document) || isEnvelope(document)
}

/** Splits a decoded document into its events: an array's elements, an envelope's batch, or itself. */
export function itemsOfDocument(document: unknown, source = 'input'): InputItem[] {
  if (Array.isArray(document)) return document.map((value, i) => ({ where: `${source}[${i}]`, value }))
  if (isEnvelope(document)) return unwrapEnvelope(document).map((value, i) => ({ where: `${source} batch[${i}]`, value }))
  return [{ where: source, value: document }]
}

function readNdjson(text: string, source: string): InputItem[] {
  const items: InputItem[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '') continue
    const where = `${source}:${i + 1}`
    try {
      items.push({ where, value: JSON.parse(line) })
    } catch (error) {
      items.push({ where, error: `malformed JSON: ${(error as Error).message}` })
    }
  }
  return items
}

function isEnvelope(value: unknown): value is BatchEnvelope {
  return typeof value === 'object' && value !== null && Array.isArray((value as { batch?: unknown }).batch)
}

/**
 * The events of a `/v1/batch` envelope, with the envelope's `context` and
 * `integrations` merged under each event's own, as Segment's Tracking API does.
 */
export function unwrapEnvelope(envelope: BatchEnvelope): unknown[] {
  const { context, integrations } = envelope
  if (context === undefined && integrations === undefined) return envelope.batch
  return envelope.batch.map((item) => {
    if (!isJsonObject(item)) return item
    const event = { ...item }
    if (context !== undefined) event.context = { ...context, ...asObject(event.context) }
    if (integrations !== undefined) event.integrations = { ...integrations, ...asObject(event.integrations) }
    return event
  })
}

function asObject(value: unknown): Record<string, unknown> {
  return isJsonObject(value) ? value : {}
}
