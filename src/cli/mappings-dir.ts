import { existsSync } from 'node:fs'
import path from 'node:path'

/** The package's own mapping folder (holds default.json). */
export const BUILTIN_MAPPINGS_DIR = path.join(__dirname, '..', '..', 'mappings')

/** `--mappings`, else `./mappings` when the working folder has one, else the package's own. */
export function mappingsDir(option: string | undefined): string {
  if (option !== undefined) return option
  const local = path.resolve('mappings')
  return existsSync(local) ? path.relative(process.cwd(), local) || '.' : BUILTIN_MAPPINGS_DIR
}
