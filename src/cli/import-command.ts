import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { AdapterError, formatMappingProblem, MappingProblems } from '../errors'
import { importSegmentSubscriptions } from '../mapping/import-segment-subscriptions'
import { compileMappingText } from '../mapping/load-mapping'
import { BUILTIN_MAPPINGS_DIR } from './mappings-dir'

export type ImportCommandOptions = { out?: string; base?: string; force?: boolean }

/**
 * `koala-adapter import FILE`: writes the mapping file converted from a Segment export to
 * stdout or `--out`, and on stderr what did not come over. Returns the exit status: 0 when
 * the result passes `check`, 1 when nothing could be imported or the result needs fixing.
 */
export function runImport(
  file: string,
  options: ImportCommandOptions,
  out: (text: string) => void,
  err: (line: string) => void
): number {
  const source = file === '-' ? 'stdin' : file
  const document = readJson(file, source)
  const baseFile = options.base ?? path.join(BUILTIN_MAPPINGS_DIR, 'default.json')
  const base = readJson(baseFile, baseFile)
  if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new AdapterError('USAGE', `--base ${baseFile}: not a mapping file`)
  if (options.out !== undefined && existsSync(options.out) && options.force !== true) {
    throw new AdapterError('USAGE', `--out ${options.out} exists; add --force to replace it`)
  }

  const result = importSegmentSubscriptions(document, base as Record<string, unknown>)
  for (const note of result.notes) err(formatMappingProblem(source, note.pointer, note.message))
  if (result.imported === 0) {
    err(`koala-adapter import: nothing imported: none of the ${result.found} subscriptions in ${source} could be carried over`)
    return 1
  }

  const text = JSON.stringify(result.mapping, null, 2) + '\n'
  const target = options.out ?? 'stdout'
  let passes = true
  try {
    compileMappingText(text)
  } catch (error) {
    if (!(error instanceof MappingProblems)) throw error
    passes = false
    for (const problem of error.problems) err(formatMappingProblem(target, problem.pointer, problem.detail))
  }
  if (options.out === undefined) out(text)
  else writeWhole(options.out, text)
  err(
    `koala-adapter import: imported ${result.imported} of ${result.found} subscriptions into ${target}` +
      (passes ? '' : '; it does not pass `check` yet: fix the problems above')
  )
  return passes ? 0 : 1
}

function readJson(file: string, label: string): unknown {
  let text: string
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (error) {
    throw new AdapterError('INPUT_INVALID', `cannot read ${label}: ${(error as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    // Not the parser's message: it quotes the text, and a Terraform state can hold secrets.
    const position = /position (\d+)/.exec((error as Error).message)
    throw new AdapterError('INPUT_INVALID', `${label}: not valid JSON${position !== null ? ` (at character ${position[1]})` : ''}`)
  }
}

/** Written to a temporary file, then renamed: a reader never sees half a mapping file. */
function writeWhole(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, text)
  renameSync(temporary, file)
}
