import { existsSync } from 'node:fs'
import path from 'node:path'
import { AdapterError } from '../errors'
import { workspaceFile } from '../mapping/load-mapping'

/** The package's own mapping folder (holds default.json). */
export const BUILTIN_MAPPINGS_DIR = path.join(__dirname, '..', '..', 'mappings')

/** `--mappings`, else `./mappings` when the working folder has one, else the package's own. */
export function mappingsDir(option: string | undefined): string {
  if (option !== undefined) return option
  const local = path.resolve('mappings')
  return existsSync(local) ? path.relative(process.cwd(), local) || '.' : BUILTIN_MAPPINGS_DIR
}

/**
 * The mapping file of workspace `name` in `dir`, found as the service finds it:
 * `<dir>/<name>.json`, and for `default` the package's own when the folder has none.
 */
export function workspaceMappingFile(dir: string, name: string): string {
  if (!existsSync(dir)) throw new AdapterError('USAGE', `--mappings ${dir}: no such folder`)
  if (name === 'default' && !existsSync(path.join(dir, 'default.json'))) return path.join(BUILTIN_MAPPINGS_DIR, 'default.json')
  return workspaceFile(dir, name)
}
