import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { AdapterError, MappingError, MappingProblems } from '../errors'
import { childPointer } from '../json/json-pointer'
import { collectCompileProblems } from './collect-compile-problems'
import { compileMapping, type CompiledMapping } from './compile-mapping'
import { schemaProblems } from './describe-schema-issues'
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
    const compiled = compileMappingText(text)
    return { workspace: path.basename(file, '.json'), file, compiled }
  } catch (error) {
    if (error instanceof MappingProblems || error instanceof MappingError) throw error.inFile(file)
    throw error
  }
}

/**
 * Parses, validates and compiles a mapping file's text (no file name yet: the caller adds it).
 * When anything is wrong, throws every problem of the text together, in the file's order:
 * schema, directives and FQL alike, so one `check` run shows them all.
 */
export function compileMappingText(text: string): CompiledMapping {
  const raw = parseDocument(text)
  const problems = schemaProblems(raw)
  if (problems.length === 0) {
    try {
      return compileMapping(MappingFile.parse(raw))
    } catch (error) {
      if (error instanceof MappingProblems) problems.push(...error.problems)
      else if (error instanceof MappingError) problems.push(error)
      else throw error
    }
  }
  // The compiler stops at a mapping's first problem and needs a valid file; this finds the rest.
  problems.push(...collectCompileProblems(raw))
  throw new MappingProblems(inDocumentOrder(withoutRepeats(problems), raw))
}

/** Parses and validates a mapping file's text against the schema only (no directives compiled). */
export function parseMappingText(text: string): MappingFile {
  const raw = parseDocument(text)
  const problems = schemaProblems(raw)
  if (problems.length > 0) throw new MappingProblems(inDocumentOrder(problems, raw))
  return MappingFile.parse(raw)
}

function parseDocument(text: string): unknown {
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
  return raw
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

function withoutRepeats(problems: MappingError[]): MappingError[] {
  const seen = new Set<string>()
  return problems.filter((problem) => {
    const key = `${problem.pointer}\u0000${problem.detail}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Sorts problems as their places appear in the file (a missing field sorts after its siblings); stable. */
function inDocumentOrder(problems: MappingError[], raw: unknown): MappingError[] {
  const positions = problems.map((problem) => positionOf(problem.pointer, raw))
  const order = problems.map((_, i) => i)
  order.sort((a, b) => comparePositions(positions[a], positions[b]) || a - b)
  return order.map((i) => problems[i])
}

function positionOf(pointer: string, raw: unknown): number[] {
  if (pointer === '') return []
  const position: number[] = []
  let value = raw
  for (const token of pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    const keys = typeof value === 'object' && value !== null ? Object.keys(value) : []
    const index = keys.indexOf(token)
    position.push(index === -1 ? keys.length : index)
    value = index === -1 ? undefined : (value as Record<string, unknown>)[token]
  }
  return position
}

function comparePositions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
