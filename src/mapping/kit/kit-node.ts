/**
 * The compiled form of one mapping-kit value. Segment resolves a mapping in two steps:
 * resolve() (whose result can share objects with the event and keep undefined-valued keys,
 * which matters to @merge and @flatten) and, at the very end, removeUndefined(). A node
 * carries both: `raw` for directives that consume another value, `out` for a value that
 * lands in the result, so results are built clean in one pass instead of cleaned afterwards.
 */
import { removeUndefinedDeep } from './copy-value'

/** Computes a value from a payload (the event, or an @arrayPath item, or an @transform result). */
export type Resolver = (payload: unknown) => unknown

/** One compiled mapping-kit value. */
export interface KitNode {
  /** What Segment's resolve() returns for this value. */
  readonly raw: Resolver
  /**
   * removeUndefined(raw(payload)): fresh arrays and plain objects, undefined-valued keys dropped;
   * except what @path reads straight from a JSON payload, which is already clean and is shared.
   */
  readonly out: Resolver
}

/**
 * Compiles a mapping-kit value found at `pointer`; directives get it to compile their operands.
 * `ownPayload` is for operands resolved against a payload of the directive's own making (an
 * @arrayPath item, an @transform result) rather than the payload the directive itself gets.
 */
export type CompileNode = (value: unknown, pointer: string, ownPayload?: true) => KitNode

/**
 * Compiles a directive from its operand (`{"@name": operand}`); `pointer` locates the "@name" key.
 * `jsonPayload`: the payload the directive gets is JSON data (see compileMappingKit).
 */
export type DirectiveCompiler = (operand: unknown, pointer: string, compile: CompileNode, jsonPayload: boolean) => KitNode

/** removeUndefined() for a value about to land in a result; primitives skip the call. */
export function outOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? removeUndefinedDeep(value) : value
}

/** A node whose result is a constant primitive. */
export function constantNode(value: unknown): KitNode {
  const get = (): unknown => value
  return { raw: get, out: get }
}

/** A node whose `out` is the cleaned copy of what `raw` returns. */
export function nodeFromRaw(raw: Resolver): KitNode {
  return { raw, out: (payload) => outOf(raw(payload)) }
}
