/**
 * Directives that compute one value: @path, @template, @literal, @json, @case, @replace.
 * Where Segment decides something from the mapping itself (`if (opts.value)`), the
 * decision is taken here at compile time; only data-dependent work is left in the closures.
 */
import { MappingError } from '../../errors'
import { childPointer } from '../../json/json-pointer'
import { compileDataPath, compilePath, stripRoot } from './compile-path'
import { compileDataTemplate, compileTemplate, type TemplateRenderer } from './compile-template'
import { realTypeOf } from './copy-value'
import {
  assertStringOrDirective,
  describeValue,
  isDirectiveShaped,
  readBoolean,
  readChoice,
  readOptions,
  readString
} from './directive-options'
import { MappingEvalError, toEvalError } from './eval-error'
import { constantNode, nodeFromRaw, outOf, type DirectiveCompiler, type KitNode, type Resolver } from './kit-node'

/** Segment's MAX_PATTERN_LENGTH and MAX_REPLACEMENT_LENGTH: longer ones throw at run time. */
const MAX_PATTERN_LENGTH = 10
const MAX_REPLACEMENT_LENGTH = 10

/** A string operand from a directive (registerStringDirective): anything else fails the event, as in Segment. */
function stringFrom(inner: KitNode, pointer: string, directive: string): Resolver {
  return (payload) => {
    const value = inner.raw(payload)
    if (typeof value !== 'string') {
      throw new MappingEvalError(pointer, `${directive}: expected string, got ${realTypeOf(value)} from the directive inside it`)
    }
    return value
  }
}

/** {"@path": "$.traits.email"} or {"@path": <directive yielding a path>}. */
export const compilePathDirective: DirectiveCompiler = (operand, pointer, compile, jsonPayload) => {
  if (typeof operand === 'string') {
    const read = compilePath(operand, pointer)
    // JSON data holds no undefined and no class instances: removeUndefined's copy would equal what it copies.
    return { raw: read, out: jsonPayload ? read : (payload) => outOf(read(payload)) }
  }
  if (isDirectiveShaped(operand)) {
    const pathOf = stringFrom(compile(operand, pointer), pointer, '@path')
    return nodeFromRaw((payload) => compileDataPath(stripRoot(pathOf(payload) as string))(payload))
  }
  throw new MappingError(pointer, `@path takes a path such as "$.traits.email" (or a directive that yields one); got ${describeValue(operand)}`)
}

/** {"@template": "Hi {{traits.name}}"} or {"@template": <directive yielding a template>}. */
export const compileTemplateDirective: DirectiveCompiler = (operand, pointer, compile) => {
  let render: TemplateRenderer
  if (typeof operand === 'string') {
    render = compileTemplate(operand, pointer)
  } else if (isDirectiveShaped(operand)) {
    const templateOf = stringFrom(compile(operand, pointer), pointer, '@template')
    render = (payload) => compileDataTemplate(templateOf(payload) as string)(payload)
  } else {
    throw new MappingError(pointer, `@template takes a string such as "{{traits.first}} {{traits.last}}"; got ${describeValue(operand)}`)
  }
  const raw: Resolver = (payload) => {
    try {
      return render(payload)
    } catch (error) {
      throw toEvalError(error, pointer, '@template could not turn a value into text')
    }
  }
  return { raw, out: raw }
}

/** {"@literal": value}: in Segment it resolves its operand like any value (directives inside still run). */
export const compileLiteralDirective: DirectiveCompiler = (operand, pointer, compile) => compile(operand, pointer)

/** {"@json": {"mode": "encode" | "decode", "value": ...}}. */
export const compileJsonDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const options = readOptions(operand, pointer, '@json', ['mode', 'value'], ['mode', 'value'])
  const mode = readChoice(options, 'mode', pointer, '@json', ['encode', 'decode'])
  if (!options.value) {
    throw new MappingError(
      childPointer(pointer, 'value'),
      `@json "value" is ${describeValue(options.value)}; Segment treats a falsy value as missing and fails every event; use a path such as {"@path": "$.properties"}`
    )
  }
  const value = compile(options.value, childPointer(pointer, 'value'))
  if (mode === 'encode') {
    const raw: Resolver = (payload) => {
      const data = value.raw(payload)
      try {
        return JSON.stringify(data)
      } catch (error) {
        throw toEvalError(error, pointer, '@json could not encode the value')
      }
    }
    return { raw, out: raw }
  }
  return {
    raw: (payload) => decode(value.raw(payload)),
    // JSON.parse already returns fresh objects without undefined; only other values need cleaning.
    out: (payload) => {
      const data = value.raw(payload)
      return typeof data === 'string' ? decode(data) : outOf(data)
    }
  }
}

function decode(value: unknown): unknown {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/** {"@case": {"operator": "lower" | "upper", "value": ...}}: non-strings pass through unchanged. */
export const compileCaseDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const options = readOptions(operand, pointer, '@case', ['operator', 'value'], ['operator', 'value'])
  const operator = readChoice(options, 'operator', pointer, '@case', ['lower', 'upper'])
  const convert = operator === 'lower' ? (text: string) => text.toLowerCase() : (text: string) => text.toUpperCase()
  assertStringOrDirective(options.value, childPointer(pointer, 'value'), '@case "value"')
  if (typeof options.value === 'string') {
    // Segment tests `opts.value` before resolving it: an empty string yields nothing.
    return constantNode(options.value === '' ? undefined : convert(options.value))
  }
  const value = compile(options.value, childPointer(pointer, 'value'))
  return {
    raw: (payload) => {
      const data = value.raw(payload)
      return typeof data === 'string' ? convert(data) : data
    },
    out: (payload) => {
      const data = value.raw(payload)
      return typeof data === 'string' ? convert(data) : outOf(data)
    }
  }
}

const REGEXP_SPECIALS = /[-[\]{}()*+?.,\\^$|#\s]/g

/**
 * {"@replace": {"pattern": "-", "replacement": "_", "value": ..., "pattern2": ..., "replacement2": ...,
 * "ignorecase": false, "global": true}}. Patterns are literal text (escaped as Segment does);
 * replacements keep String.prototype.replace's "$&"-style patterns, as in Segment.
 */
export const compileReplaceDirective: DirectiveCompiler = (operand, pointer, compile) => {
  const keys = ['pattern', 'replacement', 'pattern2', 'replacement2', 'value', 'ignorecase', 'global']
  const options = readOptions(operand, pointer, '@replace', keys, ['pattern', 'value'])
  const pattern = readString(options, 'pattern', pointer, '@replace', { min: 1, max: MAX_PATTERN_LENGTH }) as string
  const replacement = readString(options, 'replacement', pointer, '@replace', { min: 0, max: MAX_REPLACEMENT_LENGTH }) ?? ''
  const pattern2 = readString(options, 'pattern2', pointer, '@replace', { min: 1, max: MAX_PATTERN_LENGTH })
  const replacement2 = readString(options, 'replacement2', pointer, '@replace', { min: 0, max: MAX_REPLACEMENT_LENGTH }) ?? ''
  if (pattern2 === undefined && options.replacement2 !== undefined) {
    throw new MappingError(childPointer(pointer, 'replacement2'), '@replace "replacement2" has no "pattern2" to go with it; add "pattern2" or remove it')
  }
  const ignoreCase = readBoolean(options, 'ignorecase', pointer, '@replace') ?? false
  const global = readBoolean(options, 'global', pointer, '@replace') ?? true
  const flags = (global ? 'g' : '') + (ignoreCase ? 'i' : '')
  // Reusing one RegExp is safe: replace() resets lastIndex for global ones and ignores it otherwise.
  const first = new RegExp(pattern.replace(REGEXP_SPECIALS, '\\$&'), flags)
  const second = pattern2 === undefined ? undefined : new RegExp(pattern2.replace(REGEXP_SPECIALS, '\\$&'), flags)
  const replaceIn = (data: unknown): string => {
    const text = typeof data === 'boolean' || typeof data === 'number' ? String(data) : data
    if (typeof text !== 'string') return ''
    const once = text.replace(first, replacement)
    return second === undefined ? once : once.replace(second, replacement2)
  }
  assertStringOrDirective(options.value, childPointer(pointer, 'value'), '@replace "value"')
  if (typeof options.value === 'string') {
    return constantNode(options.value === '' ? undefined : replaceIn(options.value))
  }
  const value = compile(options.value, childPointer(pointer, 'value'))
  const raw: Resolver = (payload) => replaceIn(value.raw(payload))
  return { raw, out: raw }
}
