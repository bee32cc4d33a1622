/**
 * {"@liquid": "Hello {{ properties.name | capitalize }}"}: a Liquid template rendered with
 * liquidjs against the payload the directive gets (the event, an @arrayPath item or an
 * @transform result), as Segment does. The template is parsed once, when the mapping
 * compiles; what Segment would only find out per event (too long, a disabled tag or filter,
 * a syntax error) is a MappingError at the directive here.
 */
import { MappingError } from '../../errors'
import { didYouMean } from './did-you-mean'
import { describeValue } from './directive-options'
import { toEvalError } from './eval-error'
import type { DirectiveCompiler, Resolver } from './kit-node'
import type * as LiquidEngineModule from './liquid-engine'

/** Tags that write a counter into the render's environment, which liquidjs makes the payload itself. */
const COUNTER_TAGS = /\b(?:increment|decrement)\b/

let loadedEngine: typeof LiquidEngineModule | undefined

/** liquidjs takes ~80 ms to load; only processes whose mappings use @liquid pay for it. */
function engineModule(): typeof LiquidEngineModule {
  loadedEngine ??= require('./liquid-engine') as typeof LiquidEngineModule
  return loadedEngine
}

/** Compiles {"@liquid": template}; `pointer` locates the "@liquid" key. */
export const compileLiquidDirective: DirectiveCompiler = (operand, pointer) => {
  if (typeof operand !== 'string') {
    throw new MappingError(pointer, `@liquid takes a Liquid template string such as "Hello {{ properties.name }}"; got ${describeValue(operand)}`)
  }
  const { liquidEngine, MAX_LIQUID_TEMPLATE_LENGTH } = engineModule()
  if (operand.length > MAX_LIQUID_TEMPLATE_LENGTH) {
    throw new MappingError(pointer, `@liquid templates are limited to ${MAX_LIQUID_TEMPLATE_LENGTH} characters, as in Segment; this one has ${operand.length}`)
  }
  const templates = parseTemplate(operand, pointer)
  // Segment lets {% increment %} write into the event; a shallow copy keeps the counters out of it.
  const scopeOf = COUNTER_TAGS.test(operand) ? shallowCopy : (payload: unknown) => payload
  const raw: Resolver = (payload) => {
    try {
      return liquidEngine.renderSync(templates, scopeOf(payload) as object) as string
    } catch (error) {
      throw toEvalError(error, pointer, '@liquid could not render')
    }
  }
  return { raw, out: raw }
}

function parseTemplate(template: string, pointer: string): ReturnType<typeof LiquidEngineModule.liquidEngine.parse> {
  try {
    return engineModule().liquidEngine.parse(template)
  } catch (error) {
    throw new MappingError(pointer, explainParseError(error))
  }
}

/** A parse failure in words, with the line and column liquidjs puts in its messages. */
function explainParseError(error: unknown): string {
  const { allowedLiquidFilters, DISABLED_LIQUID_FILTERS, DISABLED_LIQUID_TAGS, DisabledLiquidTagError } = engineModule()
  const message = error instanceof Error ? error.message : String(error)
  const place = /, (line:\d+, col:\d+)$/.exec(message)
  const at = place === null ? '' : ` (${place[1].replace(':', ' ').replace(', col:', ', column ')})`
  const cause: unknown = error instanceof Error && 'originalError' in error ? error.originalError : undefined
  if (cause instanceof DisabledLiquidTagError) {
    return `@liquid tag "${cause.tag}" is disabled in Segment${at}; the disabled tags are ${DISABLED_LIQUID_TAGS.join(', ')}`
  }
  const filter = /^undefined filter: ([^\s,]+)/.exec(message)
  if (filter !== null) {
    const name = filter[1]
    if (DISABLED_LIQUID_FILTERS.includes(name)) {
      return `@liquid filter "${name}" is disabled in Segment${at}; the disabled filters are ${DISABLED_LIQUID_FILTERS.join(', ')}`
    }
    return `@liquid has no filter "${name}"${didYouMean(name, allowedLiquidFilters())}${at}`
  }
  const detail = place === null ? message : message.slice(0, place.index)
  return `@liquid template does not parse: ${detail}${at}`
}

function shallowCopy(payload: unknown): unknown {
  if (Array.isArray(payload)) return payload.slice()
  // Spread (not Object.assign) keeps an own "__proto__" key an own key.
  if (typeof payload === 'object' && payload !== null) return { ...payload }
  return payload
}
