import type { ServiceConfig } from '../config'
import type { KoalaTarget } from '../koala/koala-client'
import { resolveSecret, type LoadedMapping } from '../mapping/load-mapping'

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
