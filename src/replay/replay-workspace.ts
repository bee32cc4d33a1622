import { existsSync } from 'node:fs'
import path from 'node:path'
import type { ServiceConfig } from '../config'
import { AdapterError } from '../errors'
import type { KoalaTarget } from '../koala/koala-client'
import { loadMappingFile, resolveSecret, workspaceFile, type LoadedMapping } from '../mapping/load-mapping'

/**
 * The workspace's mapping, found as the service finds it: `<mappings>/<name>.json`,
 * and for `default` the built-in file when the folder has none. Throws with the file
 * and pointer of every problem.
 */
export function loadReplayWorkspace(mappingsDir: string, builtinDefaultFile: string, name: string): LoadedMapping {
  if (!existsSync(mappingsDir)) throw new AdapterError('USAGE', `--mappings ${mappingsDir}: no such folder`)
  const own = path.join(mappingsDir, 'default.json')
  const file = name === 'default' && !existsSync(own) ? builtinDefaultFile : workspaceFile(mappingsDir, name)
  return loadMappingFile(file)
}

/**
 * Where the workspace's requests go: the mapping's `koala.baseUrl`, else KOALA_BASE_URL;
 * the key from the mapping's `{ "env": … }` reference (an unset variable is an error
 * naming it and the file). A replay has no local mode: it never falls back to a simulator.
 */
export function koalaTargetOf(loaded: LoadedMapping, config: Pick<ServiceConfig, 'koalaBaseUrl'>, env: NodeJS.ProcessEnv): KoalaTarget {
  const { koala } = loaded.compiled.config
  return {
    baseUrl: koala.baseUrl ?? config.koalaBaseUrl,
    publicApiKey: resolveSecret(koala.publicApiKey, env, loaded.file, '/koala/publicApiKey')
  }
}
