import type { KoalaTarget } from '../koala/koala-client'
import type { CompiledMapping } from '../mapping/compile-mapping'
import { resolveSecret, type LoadedMapping } from '../mapping/load-mapping'
import type { SecretRef } from '../mapping/mapping-file-schema'

/** A workspace ready to use by any door: its compiled mapping, where its requests go, and its secrets. */
export type Workspace = {
  name: string
  file: string
  compiled: CompiledMapping
  koala: KoalaTarget
  /** The auth secrets its mapping names and the environment sets (unset ones are left out: the doors decide what that means). */
  secrets: WorkspaceSecrets
}

export type WorkspaceSecrets = {
  /** Webhook shared secrets (two during a rotation). */
  sharedSecrets: string[]
  /** Webhook bearer tokens (two during a rotation). */
  tokens: string[]
  /** Segment write keys that select this workspace on the Tracking API. */
  writeKeys: string[]
}

export type ResolveSettings = {
  /** Where a mapping without its own `koala.baseUrl` sends (KOALA_BASE_URL). */
  koalaBaseUrl: string
  env: NodeJS.ProcessEnv
  /**
   * The server's local mode: a workspace whose Koala key variable is unset sends here, with its
   * name as key, instead of failing. Without it (outside local mode, and always in a replay) an
   * unset key variable is an error naming it and the file.
   */
  localKoala?: { baseUrl: string }
}

/** A workspace, and what a person must be told about it (its requests going to the simulator). */
export type ResolvedWorkspace = { workspace: Workspace; notices: string[] }

/** Resolves a loaded mapping's Koala target and secrets from the environment; throws SECRET_MISSING as described above. */
export function resolveWorkspace(loaded: LoadedMapping, settings: ResolveSettings): ResolvedWorkspace {
  const { workspace: name, file, compiled } = loaded
  const { koala: koalaConfig, auth } = compiled.config
  const { env, localKoala } = settings
  const notices: string[] = []

  let koala: KoalaTarget
  const keyRef = koalaConfig.publicApiKey
  if (isSet(env, keyRef) || localKoala === undefined) {
    koala = {
      baseUrl: koalaConfig.baseUrl ?? settings.koalaBaseUrl,
      publicApiKey: resolveSecret(keyRef, env, file, '/koala/publicApiKey')
    }
  } else {
    // Its name as key tells the workspaces' requests apart in the simulator's /_sim/requests.
    koala = { baseUrl: localKoala.baseUrl, publicApiKey: name }
    notices.push(`${keyRef.env} is not set: events go to the local Koala simulator at ${localKoala.baseUrl} (key "${name}")`)
  }

  const sharedSecretRefs = auth?.sharedSecret === undefined ? [] : [auth.sharedSecret].flat()
  const secrets: WorkspaceSecrets = {
    sharedSecrets: valuesOf(sharedSecretRefs, env),
    tokens: valuesOf(auth?.tokens ?? [], env),
    writeKeys: valuesOf(auth?.writeKeys ?? [], env)
  }
  return { workspace: { name, file, compiled, koala, secrets }, notices }
}

/** The variable holding the workspace's Koala key is set (to something not empty). */
export function koalaKeyIsSet(loaded: LoadedMapping, env: NodeJS.ProcessEnv): boolean {
  return isSet(env, loaded.compiled.config.koala.publicApiKey)
}

function valuesOf(refs: readonly SecretRef[], env: NodeJS.ProcessEnv): string[] {
  return refs.filter((ref) => isSet(env, ref)).map((ref) => env[ref.env] as string)
}

function isSet(env: NodeJS.ProcessEnv, ref: SecretRef): boolean {
  return env[ref.env] !== undefined && env[ref.env] !== ''
}
