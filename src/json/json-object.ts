import { z } from 'zod'

/** True for a JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A JSON object, as a zod schema that checks without copying: properties, traits and
 * context can be large, and z.record would visit and copy every key of each.
 */
export const JsonObject = z.custom<Record<string, unknown>>(isJsonObject, { message: 'expected an object' })
