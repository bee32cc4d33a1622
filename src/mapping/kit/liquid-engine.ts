/**
 * The liquidjs engine behind @liquid, set up with the limits and the disabled tags and
 * filters of Segment's own engine (actions-core's liquid-directive), so a template renders
 * here as it does in Segment. Two settings are ours: filters must exist (Segment renders an
 * unknown or disabled filter as a no-op or an error per event; here the template is refused
 * when it is parsed), and dates are read and written in UTC whatever zone the process runs in.
 */
import { Liquid, type FilterImplOptions } from 'liquidjs'
import { AdapterError } from '../../errors'

/** Segment's limit on a template's length; longer ones fail every event there. */
export const MAX_LIQUID_TEMPLATE_LENGTH = 1000
/** Segment's render time limit per template, in milliseconds. */
const LIQUID_RENDER_LIMIT_MS = 500
/** Segment's limit on what filters and tags may allocate per render (liquidjs counts string lengths). */
const LIQUID_MEMORY_LIMIT = 1e8

/** Tags Segment disables: loops (`for`, `tablerow`), partials and layouts, and `case`. */
export const DISABLED_LIQUID_TAGS: readonly string[] = Object.freeze(['case', 'for', 'include', 'layout', 'render', 'tablerow'])

/** Filters Segment disables: mostly ones that walk or reshape arrays. */
export const DISABLED_LIQUID_FILTERS: readonly string[] = Object.freeze([
  'array_to_sentence_string',
  'concat',
  'find',
  'find_exp',
  'find_index',
  'find_index_exp',
  'group_by',
  'group_by_exp',
  'has',
  'has_exp',
  'map',
  'newline_to_br',
  'reject',
  'reject_exp',
  'reverse',
  'sort',
  'sort_natural',
  'uniq',
  'where_exp',
  'type'
])

/** Thrown while parsing a template that uses a tag Segment disables. */
export class DisabledLiquidTagError extends AdapterError {
  constructor(readonly tag: string) {
    super('MAPPING_INVALID', `tag "${tag}" is disabled`)
    this.name = 'DisabledLiquidTagError'
  }
}

/** The date filters that parse their input with JavaScript's Date. */
const DATE_FILTERS = ['date', 'date_to_xmlschema', 'date_to_rfc822', 'date_to_string', 'date_to_long_string']

/** An ISO-8601 date and time with no zone ("2026-01-01T10:00", "2026-01-01 10:00:00.5"). */
const ZONELESS_ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/

function createEngine(): Liquid {
  const engine = new Liquid({
    renderLimit: LIQUID_RENDER_LIMIT_MS,
    parseLimit: MAX_LIQUID_TEMPLATE_LENGTH,
    memoryLimit: LIQUID_MEMORY_LIMIT,
    // liquidjs's default, written down because event data must never reach a prototype.
    ownPropertyOnly: true,
    strictFilters: true,
    timezoneOffset: 0
  })
  for (const tag of DISABLED_LIQUID_TAGS) {
    engine.registerTag(tag, {
      parse() {
        throw new DisabledLiquidTagError(tag)
      },
      render() {
        throw new DisabledLiquidTagError(tag)
      }
    })
  }
  // With strictFilters, a filter missing from the engine fails the parse: that is how a disabled one is found.
  for (const filter of DISABLED_LIQUID_FILTERS) engine.unregisterFilter(filter)
  for (const name of DATE_FILTERS) readZonelessDatesAsUtc(engine, name)
  return engine
}

/**
 * JavaScript's Date reads "2026-01-01T10:00" in the process's time zone; with
 * timezoneOffset 0 the output is UTC, so the input must be UTC too for the result not to
 * depend on where the adapter runs. (Segment's transform() uses its process's zone: where
 * that is UTC, it agrees with this.)
 */
function readZonelessDatesAsUtc(engine: Liquid, name: string): void {
  const original = engine.filters[name] as FilterImplOptions
  if (typeof original !== 'function') throw new AdapterError('INTERNAL', `liquidjs has no plain "${name}" filter to wrap`)
  engine.registerFilter(name, function (this: unknown, value: unknown, ...args: unknown[]) {
    const input = typeof value === 'string' && ZONELESS_ISO_DATE_TIME.test(value) ? `${value.replace(' ', 'T')}Z` : value
    return original.call(this as never, input, ...(args as never[]))
  })
}

/** The one engine every @liquid directive renders with; it holds no per-render state. */
export const liquidEngine: Liquid = createEngine()

/** The names of the filters a template may use. */
export function allowedLiquidFilters(): string[] {
  return Object.keys(liquidEngine.filters)
}
