import { existsSync, statSync } from 'node:fs'
import { AdapterError, MappingProblems } from '../errors'
import { listMappingFiles, loadMappingFile } from '../mapping/load-mapping'
import { mappingsDir } from './mappings-dir'

/** `koala-adapter check`: validates mapping files; returns true when every file is good. */
export function runCheck(paths: string[], options: { mappings?: string }, out: (line: string) => void): boolean {
  const targets = paths.length > 0 ? paths : [mappingsDir(options.mappings)]
  const files: string[] = []
  for (const target of targets) {
    if (!existsSync(target)) throw new AdapterError('USAGE', `no such file or folder: ${target}`)
    files.push(...(statSync(target).isDirectory() ? listMappingFiles(target) : [target]))
  }
  if (files.length === 0) throw new AdapterError('USAGE', `no mapping files (*.json) in ${targets.join(', ')}`)
  let allGood = true
  for (const file of files) {
    try {
      loadMappingFile(file)
      out(`ok ${file}`)
    } catch (error) {
      if (!(error instanceof MappingProblems)) throw error
      allGood = false
      for (const problem of error.problems) out(problem.message)
    }
  }
  return allGood
}
