import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { z } from 'zod'
import { AdapterError, childPointer, MappingError, MappingProblems, pointerOf } from '../errors'
import { closestName } from './closest-name'
import { compileMapping, type CompiledMapping } from './compile-mapping'
import { MappingFile, type SecretRef } from './mapping-file-schema'

/** A workspace's mapping, loaded from its file and compiled. */
export type LoadedMapping = {
  workspace: string
  file: string
  compiled: CompiledMapping
}

// The one key whose assignment (rather than definition) changes an object's prototype. "constructor" and
// "prototype" are ordinary keys here, as in event data: the kit writes every key as an own property.
const FORBIDDEN_KEYS = new Set(['__proto__'])

/** Reads, validates and compiles one mapping file; every problem names the file and a JSON pointer. */
export function loadMappingFile(file: string): LoadedMapping {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new MappingProblems([new MappingError('', `cannot read the file: ${(error as Error).message}`, file)])
  }
  try {
    const compiled = compileMapping(parseMappingText(text))
    return { workspace: path.basename(file, '.json'), file, compiled }
  } catch (error) {
    if (error instanceof MappingProblems || error instanceof MappingError) throw error.inFile(file)
    throw error
  }
}

/** Parses and validates a mapping file's text (no file name yet: the caller adds it). */
export function parseMappingText(text: string): MappingFile {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new MappingProblems([new MappingError('', `not valid JSON: ${describeSyntaxError(error as Error, text)}`)])
  }
  const forbidden = findForbiddenKeys(raw)
  if (forbidden.length > 0) {
    throw new MappingProblems(forbidden.map((pointer) => new MappingError(pointer, 'this key is not allowed: "__proto__" names a JavaScript prototype')))
  }
  const parsed = MappingFile.safeParse(raw)
  if (!parsed.success) throw new MappingProblems(parsed.error.issues.flatMap((issue) => issueToProblems(issue, raw)))
  return parsed.data
}

/** Mapping files of a folder: every `*.json` except the JSON Schema. */
export function listMappingFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && name !== 'schema.json')
    .sort()
    .map((name) => path.join(dir, name))
}

/** The path of a workspace's file; an unknown name is an error that lists the known ones. */
export function workspaceFile(mappingsDir: string, workspace: string): string {
  const known = listMappingFiles(mappingsDir).map((file) => path.basename(file, '.json'))
  if (!/^[A-Za-z0-9_-]+$/.test(workspace) || !known.includes(workspace)) {
    throw new AdapterError(
      'MAPPING_NOT_FOUND',
      `no mapping for workspace "${workspace}" in ${mappingsDir}; known workspaces: ${known.join(', ') || '(none)'}`
    )
  }
  return path.join(mappingsDir, `${workspace}.json`)
}

/** Reads a secret from the environment; a missing variable is an error naming it and the file. */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv, file: string, pointer: string): string {
  const value = env[ref.env]
  if (value === undefined || value === '') {
    throw new AdapterError('SECRET_MISSING', `${file}: ${pointer}: environment variable ${ref.env} is not set`)
  }
  return value
}

function describeSyntaxError(error: Error, text: string): string {
  const match = /position (\d+)/.exec(error.message)
  if (match === null) return error.message
  const position = Number(match[1])
  const before = text.slice(0, position).split('\n')
  return `${error.message.replace(/ in JSON at position \d+.*$/, '')} at line ${before.length} column ${before[before.length - 1].length + 1}`
}

function findForbiddenKeys(root: unknown): string[] {
  const found: string[] = []
  const stack: Array<{ value: unknown; pointer: string }> = [{ value: root, pointer: '' }]
  while (stack.length > 0) {
    const { value, pointer } = stack.pop()!
    if (typeof value !== 'object' || value === null) continue
    for (const key of Object.keys(value)) {
      const child = childPointer(pointer, key)
      if (FORBIDDEN_KEYS.has(key)) found.push(child)
      else stack.push({ value: (value as Record<string, unknown>)[key], pointer: child })
    }
  }
  return found.sort()
}

function issueToProblems(issue: z.core.$ZodIssue, raw: unknown): MappingError[] {
  const pointer = pointerOf(issue.path)
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path, raw)
    return issue.keys.map((key) => {
      const guess = closestName(key, allowed)
      const hint = guess !== undefined ? `; did you mean "${guess}"?` : allowed.length > 0 ? `; expected one of: ${allowed.join(', ')}` : ''
      return new MappingError(childPointer(pointer, key), `unknown field "${key}"${hint}`)
    })
  }
  return [new MappingError(pointer, issue.message)]
}

type Introspectable = { _zod: { def: Record<string, unknown> & { type: string } } }

/** The keys the schema allows at `path` in this document, to suggest a fix for a typo. */
function allowedKeysAt(path: readonly PropertyKey[], raw: unknown): string[] {
  let schema = MappingFile as unknown as Introspectable
  let data = raw
  const unwrap = (): void => {
    for (;;) {
      const def = schema._zod.def
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') schema = def.innerType as Introspectable
      else if (def.type === 'union') {
        const options = def.options as Introspectable[]
        const discriminator = def.discriminator as string | undefined
        const tag = discriminator !== undefined ? (data as Record<string, unknown> | undefined)?.[discriminator] : undefined
        const chosen = options.find((option) => {
          const shape = option._zod.def.shape as Record<string, Introspectable> | undefined
          const literal = discriminator !== undefined ? shape?.[discriminator]?._zod.def.values : undefined
          return Array.isArray(literal) ? literal.includes(tag) : option._zod.def.type === 'object'
        })
        if (chosen === undefined) return
        schema = chosen
      } else return
    }
  }
  unwrap()
  for (const token of path) {
    const def = schema._zod.def
    if (def.type === 'object') schema = (def.shape as Record<string, Introspectable>)[String(token)]
    else if (def.type === 'array') schema = def.element as Introspectable
    else return []
    if (schema === undefined) return []
    data = (data as Record<string, unknown> | undefined)?.[String(token)]
    unwrap()
  }
  return schema._zod.def.type === 'object' ? Object.keys(schema._zod.def.shape as object) : []
}
