/**
 * The `messageId` of a raw input value as Segment reads it (a number as its decimal
 * string), or null when it has none or a blank one (for reports about events).
 */
export function messageIdOf(value: unknown): string | null {
  const id = typeof value === 'object' && value !== null ? (value as { messageId?: unknown }).messageId : undefined
  if (typeof id === 'string') return id.trim() === '' ? null : id
  return typeof id === 'number' && Number.isFinite(id) ? String(id) : null
}
