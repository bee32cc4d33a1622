/**
 * Anything shaped like an email: a run of characters, `@`, a run of characters, where
 * neither run crosses a space, quote, bracket or slash. A pointer step such as
 * `/mapping/event/@path` is not one (nothing but a slash before its `@`).
 */
const EMAIL = /[^\s"'`<>()[\]{},;:/\\@]+@[^\s"'`<>()[\]{},;:/\\@]+/g

/** `text` with every email in it replaced by `[email]`: for what we log or answer that may quote an event. */
export function maskEmails(text: string): string {
  return text.includes('@') ? text.replace(EMAIL, '[email]') : text
}
