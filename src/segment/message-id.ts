/** The `messageId` of a raw input value, or null when it has none (for reports about events we could not read). */
export function messageIdOf(value: unknown): string | null {
  const id = typeof value === 'object' && value !== null ? (value as { messageId?: unknown }).messageId : undefined
  return typeof id === 'string' ? id : null
}
