/**
 * The one place where zod's issues about a mapping file become MappingErrors in plain
 * words. It reads the schema itself (field names, allowed values, which fields hold
 * secrets), so a field added to the schema gets the same messages without a change here.
 */
import type { z } from 'zod'
import { MappingError } from '../errors'
import { childPointer, pointerOf } from '../json/json-pointer'
import { closestName } from './closest-name'
import { MappingFile } from './mapping-file-schema'
import { SEGMENT_EXPORT_NAMES, segmentExportKind, segmentKeysOf } from './segment-export-shape'

type Issue = z.core.$ZodIssue
type Path = readonly PropertyKey[]
type SchemaDef = Record<string, unknown> & { type: string }
type SchemaNode = { _zod: { def: SchemaDef } }

const SECRET_MESSAGE = 'a secret must be an { "env": "NAME" } reference; put the value itself in that environment variable'
const IMPORT_HINT = 'convert it with `koala-adapter import FILE` (see the README, "koala-adapter import")'

/** Validates a parsed mapping document; every problem found, in plain words, or none when it conforms. */
export function schemaProblems(raw: unknown): MappingError[] {
  const exportKind = segmentExportKind(raw)
  if (exportKind !== undefined) {
    return [new MappingError('', `this is ${SEGMENT_EXPORT_NAMES[exportKind]}, not a mapping file; ${IMPORT_HINT}`)]
  }
  const parsed = MappingFile.safeParse(raw)
  if (parsed.success) return []
  const segmentShaped = segmentShapedSubscriptions(raw)
  const problems: MappingError[] = []
  for (const [index, keys] of segmentShaped) {
    problems.push(
      new MappingError(
        pointerOf(['subscriptions', index]),
        `this subscription is in Segment's Public API / Terraform shape (${keys.join(', ')}); a mapping file's subscription has ` +
          `subscribe (the trigger), partnerAction (track or identify for the actionSlug) and mapping (the settings): ${IMPORT_HINT}`
      )
    )
  }
  for (const issue of parsed.error.issues) {
    if (issue.path[0] === 'subscriptions' && segmentShaped.has(Number(issue.path[1]))) continue
    problems.push(...describeIssue(issue, raw))
  }
  return problems
}

function segmentShapedSubscriptions(raw: unknown): Map<number, string[]> {
  const found = new Map<number, string[]>()
  const subscriptions = (raw as { subscriptions?: unknown } | null)?.subscriptions
  if (!Array.isArray(subscriptions)) return found
  subscriptions.forEach((subscription, index) => {
    const keys = segmentKeysOf(subscription)
    if (keys.length > 0) found.set(index, keys)
  })
  return found
}

function describeIssue(issue: Issue, raw: unknown): MappingError[] {
  const pointer = pointerOf(issue.path)
  if (issue.code === 'unrecognized_keys') {
    const allowed = objectKeys(schemaAt(issue.path, raw))
    return issue.keys.map((key) => {
      const guess = closestName(key, allowed)
      const hint = guess !== undefined ? `; did you mean "${guess}"?` : allowed.length > 0 ? `; expected one of: ${allowed.join(', ')}` : ''
      return new MappingError(childPointer(pointer, key), `unknown field "${key}"${hint}`)
    })
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string') {
    return [new MappingError(pointer, describeValueIssue(issue, raw)), ...asIfDiscriminated(issue.path.slice(0, -1), issue.discriminator, raw)]
  }
  if (issue.code === 'invalid_union') {
    // The one choice whose kind (list, object...) the value has tells what is wrong inside it.
    const fitting = issue.errors.filter((branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0))
    if (fitting.length === 1 && fitting[0].length > 0) {
      return fitting[0].flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as Issue, raw))
    }
  }
  return [new MappingError(pointer, describeValueIssue(issue, raw))]
}

/** What is wrong with the value at the issue's path, in words that name the field. */
function describeValueIssue(issue: Issue, raw: unknown): string {
  const path = issue.path
  const node = schemaAt(path, raw)
  const value = valueAt(raw, path)
  const label = labelOf(path)
  const parent = valueAt(raw, path.slice(0, -1))
  const missing = path.length > 0 && isRecord(parent) && !Object.hasOwn(parent, String(path[path.length - 1]))
  const choices = choicesOf(issue, node)
  if (missing && issue.code !== 'custom') {
    const hint = node !== undefined && acceptsSecret(node) ? '; give it as { "env": "NAME" }' : choices === undefined ? '' : choices.length === 1 ? `; it must be ${choices[0]}` : `; it is one of ${choices.join(', ')}`
    return `required field ${label} is missing${hint}`
  }
  if (node !== undefined && acceptsSecret(node) && (typeof value === 'string' || typeof value === 'number')) return SECRET_MESSAGE
  if (choices !== undefined && (issue.code === 'invalid_value' || issue.code === 'invalid_union')) {
    const guess = typeof value === 'string' ? closestName(value, choices.map(String)) : undefined
    const list = choices.length === 1 ? `must be ${choices[0]}` : `must be one of ${choices.join(', ')}`
    return `${label} ${list}${guess !== undefined ? `; did you mean "${guess}"?` : ''}`
  }
  switch (issue.code) {
    case 'invalid_type':
    case 'invalid_union':
      return `${label} must be ${node !== undefined ? describeSchema(node) : 'something else'}, not ${kindOf(value)}`
    case 'too_small':
      return `${label} ${sizeLimit('at least', issue.origin, Number(issue.minimum))}`
    case 'too_big':
      return `${label} ${sizeLimit('at most', issue.origin, Number(issue.maximum))}`
    case 'invalid_format':
      if (issue.format === 'url') return `${label} must be a URL (https://…)`
      // A pattern with a message of its own (the schema's words) says it better than the pattern.
      return issue.message.startsWith('Invalid') ? `${label} must match ${issue.pattern ?? issue.format}` : `${label} ${issue.message}`
    default:
      return `${label}: ${issue.message}`
  }
}

/**
 * A subscription whose partnerAction is wrong or missing is checked as the partner action
 * it most likely meant (the closest name, else the one that fits its other fields best),
 * so its other problems show in the same run.
 */
function asIfDiscriminated(itemPath: Path, discriminator: string, raw: unknown): MappingError[] {
  const union = schemaAt(itemPath, raw)
  const item = valueAt(raw, itemPath)
  if (union === undefined || union._zod.def.type !== 'union' || !isRecord(item)) return []
  const tags = discriminatorValues(union, discriminator).filter((tag): tag is string => typeof tag === 'string')
  const given = item[discriminator]
  const guess = typeof given === 'string' ? closestName(given, tags) : undefined
  const attempts = (guess !== undefined ? [guess] : tags).map((tag) => {
    const document = withValueAt(raw, [...itemPath, discriminator], tag)
    const result = MappingFile.safeParse(document)
    const issues = result.success ? [] : result.error.issues.filter((issue) => startsWith(issue.path, itemPath) && issue.path.length > itemPath.length)
    return { document, issues }
  })
  const best = attempts.reduce((a, b) => (b.issues.length < a.issues.length ? b : a))
  return best.issues.flatMap((issue) => describeIssue(issue, best.document))
}

function choicesOf(issue: Issue, node: SchemaNode | undefined): unknown[] | undefined {
  if (issue.code === 'invalid_value') return issue.values.map(display)
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) return issue.options.map(display)
  if (node?._zod.def.type === 'enum') return Object.values(node._zod.def.entries as object).map(display)
  if (node?._zod.def.type === 'literal') return (node._zod.def.values as unknown[]).map(display)
  return undefined
}

function display(value: unknown): unknown {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function sizeLimit(bound: string, origin: string, limit: number): string {
  if (origin === 'array') return `must have ${bound} ${limit} ${limit === 1 ? 'entry' : 'entries'}`
  if (origin === 'string') return limit === 1 && bound === 'at least' ? 'must not be empty' : `must have ${bound} ${limit} characters`
  return `must be ${bound} ${limit}`
}

/** `"event"`, or `entry 2 of "writeKeys"` for an array item. */
function labelOf(path: Path): string {
  if (path.length === 0) return 'the file'
  const last = path[path.length - 1]
  if (typeof last === 'number') return path.length > 1 ? `entry ${last} of "${String(path[path.length - 2])}"` : `entry ${last}`
  return `"${String(last)}"`
}

/** A short description of what a schema node accepts ("a list of an { "env": "NAME" } reference"). */
function describeSchema(node: SchemaNode): string {
  const def = node._zod.def
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
      return describeSchema(def.innerType as SchemaNode)
    case 'string':
      return 'a string'
    case 'number':
      return 'a number'
    case 'boolean':
      return 'true or false'
    case 'array':
      return `a list whose entries are each ${describeSchema(def.element as SchemaNode)}`
    case 'object':
      return isSecret(node) ? 'an { "env": "NAME" } reference' : 'an object'
    case 'union':
      return (def.options as SchemaNode[]).map(describeSchema).join(' or ')
    case 'enum':
      return `one of ${Object.values(def.entries as object).join(', ')}`
    case 'literal':
      return (def.values as unknown[]).map((value) => JSON.stringify(value)).join(' or ')
    default:
      return 'a value'
  }
}

function isSecret(node: SchemaNode): boolean {
  const def = node._zod.def
  return def.type === 'object' && Object.keys(def.shape as object).join() === 'env'
}

/** Whether a place takes secrets: a secret itself, a list of them, or a choice that includes either. */
function acceptsSecret(node: SchemaNode): boolean {
  const def = node._zod.def
  if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') return acceptsSecret(def.innerType as SchemaNode)
  if (def.type === 'union') return (def.options as SchemaNode[]).some(acceptsSecret)
  if (def.type === 'array') return isSecret(def.element as SchemaNode)
  return isSecret(node)
}

function objectKeys(node: SchemaNode | undefined): string[] {
  return node?._zod.def.type === 'object' ? Object.keys(node._zod.def.shape as object) : []
}

function discriminatorValues(union: SchemaNode, discriminator: string): unknown[] {
  return (union._zod.def.options as SchemaNode[]).flatMap((option) => tagsOf(option, discriminator))
}

/** The values of one union member's discriminator field. */
function tagsOf(option: SchemaNode, discriminator: string): unknown[] {
  const shape = option._zod.def.shape as Record<string, SchemaNode> | undefined
  const literal = shape?.[discriminator]?._zod.def.values
  return Array.isArray(literal) ? literal : []
}

/**
 * The schema node at `path` in this document: optional/default wrappers removed, a union's
 * member chosen by the document's data (its discriminator, or the data's kind); a union whose
 * member cannot be chosen is returned as is.
 */
function schemaAt(path: Path, raw: unknown): SchemaNode | undefined {
  let schema: SchemaNode | undefined = MappingFile as unknown as SchemaNode
  let data = raw
  schema = unwrap(schema, data)
  for (const token of path) {
    const def: SchemaDef = schema._zod.def
    if (def.type === 'object') schema = (def.shape as Record<string, SchemaNode>)[String(token)]
    else if (def.type === 'array') schema = def.element as SchemaNode
    else return undefined
    if (schema === undefined) return undefined
    data = isRecord(data) || Array.isArray(data) ? (data as Record<string, unknown>)[String(token)] : undefined
    schema = unwrap(schema, data)
  }
  return schema
}

function unwrap(start: SchemaNode, data: unknown): SchemaNode {
  let schema = start
  for (;;) {
    const def = schema._zod.def
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') {
      schema = def.innerType as SchemaNode
      continue
    }
    if (def.type !== 'union') return schema
    const options = def.options as SchemaNode[]
    const discriminator = def.discriminator as string | undefined
    const chosen =
      discriminator !== undefined
        ? options.find((option) => tagsOf(option, discriminator).includes(isRecord(data) ? data[discriminator] : undefined))
        : options.find((option) => option._zod.def.type === (Array.isArray(data) ? 'array' : isRecord(data) ? 'object' : ''))
    if (chosen === undefined) return schema
    schema = chosen
  }
}

function valueAt(raw: unknown, path: Path): unknown {
  let value = raw
  for (const token of path) {
    if (!isRecord(value) && !Array.isArray(value)) return undefined
    value = Object.hasOwn(value, String(token)) ? (value as Record<string, unknown>)[String(token)] : undefined
  }
  return value
}

/** A copy of the document with one value replaced (only the objects on the way are copied). */
function withValueAt(raw: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value
  const [head, ...rest] = path
  const container: Record<string, unknown> | unknown[] = Array.isArray(raw) ? [...raw] : isRecord(raw) ? { ...raw } : {}
  ;(container as Record<string, unknown>)[String(head)] = withValueAt(valueAt(raw, [head]), rest, value)
  return container
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.every((token, i) => String(path[i]) === String(token))
}

// Only the kind of a wrong value is named, never the value: it may be a secret put in the wrong place.
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
