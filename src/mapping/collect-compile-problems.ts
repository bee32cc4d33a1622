/**
 * Finds every directive, FQL and identity problem of a mapping document, even one that
 * fails its schema, for `check` to list in one run. The compilers stop at their first
 * problem, so each part is compiled on its own: each subscription's `subscribe`, each
 * field of its `mapping` (and, where a field fails, each of its plain children).
 */
import { MappingError, MappingProblems } from '../errors'
import { childPointer } from '../json/json-pointer'
import { compileIdentity } from './identity'
import { compileMappingKit, compileValue } from './kit/compile-mapping-kit'
import { IdentityConfig } from './mapping-file-schema'
import { segmentKeysOf } from './segment-export-shape'
import { compileSubscription } from './subscription'

/** The compile problems of every part of the document that has the shape to be compiled. */
export function collectCompileProblems(raw: unknown): MappingError[] {
  if (!isRecord(raw)) return []
  const problems: MappingError[] = []
  const identity = IdentityConfig.safeParse(raw.identity)
  if (identity.success) problems.push(...attempt(() => compileIdentity(identity.data, '/identity')))
  const subscriptions = Array.isArray(raw.subscriptions) ? raw.subscriptions : []
  subscriptions.forEach((subscription: unknown, index) => {
    // A subscription in Segment's export shape gets one problem naming the shape instead.
    if (!isRecord(subscription) || segmentKeysOf(subscription).length > 0) return
    const pointer = childPointer('/subscriptions', index)
    if (typeof subscription.subscribe === 'string') {
      const subscribe = subscription.subscribe
      problems.push(...attempt(() => compileSubscription(subscribe, childPointer(pointer, 'subscribe'))))
    }
    if (Object.hasOwn(subscription, 'mapping')) problems.push(...mappingProblems(subscription.mapping, childPointer(pointer, 'mapping')))
  })
  return problems
}

function mappingProblems(mapping: unknown, pointer: string): MappingError[] {
  const whole = attempt(() => compileMappingKit(mapping, pointer))
  if (whole.length === 0 || !isRecord(mapping)) return whole
  const fields = Object.keys(mapping).filter((key) => !key.startsWith('@'))
  const perField = fields.flatMap((key) => valueProblems(mapping[key], childPointer(pointer, key)))
  // A problem of the mapping as a whole (a directive at its top, say) is not any one field's.
  return [...whole.filter((problem) => !fields.some((key) => isWithin(problem.pointer, childPointer(pointer, key)))), ...perField]
}

function valueProblems(value: unknown, pointer: string): MappingError[] {
  const whole = attempt(() => compileValue(value, pointer))
  if (whole.length === 0) return whole
  const isPlainContainer = Array.isArray(value) || (isRecord(value) && !Object.keys(value).some((key) => key.startsWith('@')))
  if (!isPlainContainer) return whole
  const children = Object.keys(value).flatMap((key) => valueProblems((value as Record<string, unknown>)[key], childPointer(pointer, key)))
  // The whole failed where no child does (it nests too deep, say): its own problem is the one.
  return children.length > 0 ? children : whole
}

function isWithin(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(`${base}/`)
}

function attempt(build: () => unknown): MappingError[] {
  try {
    build()
    return []
  } catch (error) {
    if (error instanceof MappingError) return [error]
    if (error instanceof MappingProblems) return error.problems
    throw error
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
