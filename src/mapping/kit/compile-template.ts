/**
 * Segment's @template ("Hi {{traits.name}}"), parsed once into static text and path readers.
 *
 * Segment renders in two passes over the string: first `{{{ path }}}`, then `{{ path }}`
 * over the result of the first pass. We parse the same two passes, but the second one runs
 * over the template's own text between triple placeholders, never over substituted values
 * (DELIBERATE_DIFFERENCES "template-no-rescan"). Placeholder paths are used as written
 * (trimmed, no "$." stripping), so "{{$.a}}" reads a key "$".
 */
import { assertSafeKeys, forbiddenKey, pathKeys, readerForKeys, type PathReader } from './compile-path'
import { boundedMemo } from './bounded-memo'

/** Renders a compiled template against a payload. May throw a TypeError when a value cannot become a string. */
export type TemplateRenderer = (payload: unknown) => string

const TRIPLE = /\{\{\{([^}]+)\}\}\}/g
const DOUBLE = /\{\{([^}]+)\}\}/g

type Part = string | PathReader

/** Compiles a template from the mapping; a placeholder naming a forbidden key is a MappingError at `pointer`. */
export function compileTemplate(template: string, pointer: string): TemplateRenderer {
  return rendererFor(
    parseTemplate(template, (path, braces) => {
      const keys = pathKeys(path)
      assertSafeKeys(keys, pointer, `template placeholder ${braces[0]}${path}${braces[1]}`)
      return readerForKeys(keys)
    })
  )
}

/** Compiles a template that came from event data: a placeholder naming a forbidden key renders as "". */
export const compileDataTemplate: (template: string) => TemplateRenderer = boundedMemo((template: string) =>
  rendererFor(
    parseTemplate(template, (path) => {
      const keys = pathKeys(path)
      return forbiddenKey(keys) === undefined ? readerForKeys(keys) : () => undefined
    })
  )
)

function parseTemplate(template: string, readerOf: (path: string, braces: [string, string]) => PathReader): Part[] {
  const parts: Part[] = []
  const addText = (text: string): void => {
    let last = 0
    for (const match of text.matchAll(DOUBLE)) {
      parts.push(text.slice(last, match.index))
      parts.push(readerOf(match[1].trim(), ['{{', '}}']))
      last = match.index + match[0].length
    }
    parts.push(text.slice(last))
  }
  let last = 0
  for (const match of template.matchAll(TRIPLE)) {
    addText(template.slice(last, match.index))
    parts.push(readerOf(match[1].trim(), ['{{{', '}}}']))
    last = match.index + match[0].length
  }
  addText(template.slice(last))
  return joinAdjacentText(parts)
}

/** Returns parts alternating text, reader, text, ..., text (always starting and ending with text). */
function joinAdjacentText(parts: Part[]): Part[] {
  const joined: Part[] = ['']
  for (const part of parts) {
    const lastIndex = joined.length - 1
    if (typeof part === 'string') {
      joined[lastIndex] = (joined[lastIndex] as string) + part
    } else {
      joined.push(part, '')
    }
  }
  return joined
}

/** Segment's replacer returns `value ?? ''`, which String.prototype.replace then turns into a string. */
function text(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : String(value)
}

/** render(template, data = {}): an undefined payload (an undefined @arrayPath item) renders as an empty object. */
const NO_DATA: unknown = Object.freeze({})

function rendererFor(parts: Part[]): TemplateRenderer {
  const texts = parts.filter((_, i) => i % 2 === 0) as string[]
  const readers = parts.filter((_, i) => i % 2 === 1) as PathReader[]
  const [t0, t1, t2] = texts
  const [r0, r1] = readers
  switch (readers.length) {
    case 0:
      return () => t0
    case 1:
      return (payload) => t0 + text(r0(payload === undefined ? NO_DATA : payload)) + t1
    case 2:
      return (payload) => {
        const data = payload === undefined ? NO_DATA : payload
        return t0 + text(r0(data)) + t1 + text(r1(data)) + t2
      }
    default:
      return (payload) => {
        const data = payload === undefined ? NO_DATA : payload
        let out = t0
        for (let i = 0; i < readers.length; i++) out += text(readers[i](data)) + texts[i + 1]
        return out
      }
  }
}
