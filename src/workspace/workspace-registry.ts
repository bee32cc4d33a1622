import { existsSync, watch, type FSWatcher } from 'node:fs'
import path from 'node:path'
import { MappingProblems } from '../errors'
import type { CompiledMapping } from '../mapping/compile-mapping'
import { listMappingFiles, loadMappingFile, resolveSecret } from '../mapping/load-mapping'
import type { SecretRef } from '../mapping/mapping-file-schema'
import { tokenDigest } from '../server/token-digest'

/** A workspace ready to serve: its compiled mapping and its resolved secrets. */
export type Workspace = {
  name: string
  file: string
  compiled: CompiledMapping
  koala: { baseUrl: string; publicApiKey: string }
  /** Webhook secrets (two during a rotation); empty with `unsignedWebhooks` false: the door is closed. */
  sharedSecrets: string[]
  /** No secret and no token, and unsigned webhooks allowed (local mode, or ALLOW_UNSIGNED_WEBHOOKS): announced. */
  unsignedWebhooks: boolean
  /** SHA-256 digests of the webhook bearer tokens (`auth.tokens`; two during a rotation). */
  tokenDigests: Buffer[]
  /** `auth.trustSignedFirstEvent`: a batch authenticated by X-Signature alone (which covers only its first event) is accepted. */
  trustSignedFirstEvent: boolean
  /** Write keys that select this workspace on the Tracking API. */
  writeKeys: string[]
  /** Any write key selects this workspace (local mode only, announced at start-up). */
  acceptsAnyWriteKey: boolean
}

export type RegistrySettings = {
  mappingsDir: string
  /** Used when the mapping folder has no default.json: `default` always exists. */
  builtinDefaultFile: string
  koalaBaseUrl: string
  /** Local mode: workspaces without a Koala key send to this (the embedded simulator), with their name as key. */
  localKoala?: { baseUrl: string }
  /** Outside local mode, take unsigned webhooks for workspaces without a secret (announced). */
  allowUnsignedWebhooks: boolean
  env: NodeJS.ProcessEnv
}

export type RegistryEvents = {
  /** Something a person must know about a workspace (an open or closed door); repeated only when it changes. */
  notice(message: string): void
  /** `name`'s file failed to load on a reload (it may never have loaded: then it is not served). */
  reloadFailed(name: string, file: string, problems: string[]): void
  reloaded(names: string[]): void
  /** A workspace keeps serving its last good version: its file is gone, or no longer loads. Said once per change. */
  stale(name: string, reason: 'file missing' | 'file invalid', file: string): void
  /** A stale workspace serves what its file says again. */
  fresh(name: string): void
}

/**
 * Holds every workspace of the mapping folder. `load()` fails loudly (start-up);
 * `watch()` reloads on edits, and a file that no longer loads, or is gone (a
 * delete-then-write replacement, a mistake), keeps its last good version serving
 * while the problem is reported: a workspace is only ever removed by a restart.
 */
export class WorkspaceRegistry {
  private workspaces = new Map<string, Workspace>()
  private byKey = new Map<string, Workspace>()
  private watcher: FSWatcher | undefined
  private reloadTimer: NodeJS.Timeout | undefined
  private generation = 0
  private announced = new Map<string, string>()
  /** The folder had no default.json at load(): the built-in one serves until the folder gets one. */
  private builtinDefault = false
  private readonly staleNames = new Map<string, 'file missing' | 'file invalid'>()

  constructor(
    private readonly settings: RegistrySettings,
    private readonly events: RegistryEvents
  ) {}

  /** Loads every file; throws (with file and pointer, or the variable's name) when any fails. */
  load(): void {
    const next = new Map<string, Workspace>()
    this.builtinDefault = !this.folderFiles().some(isDefaultFile)
    if (this.builtinDefault) {
      this.events.notice(`workspace default: ${this.settings.mappingsDir} has no default.json, so the built-in mapping serves it (${this.settings.builtinDefaultFile})`)
    }
    for (const file of this.files()) {
      const workspace = this.resolve(file)
      next.set(workspace.name, workspace)
    }
    this.install(next)
  }

  get(name: string): Workspace | undefined {
    return this.workspaces.get(name)
  }

  /** The workspace a Tracking API write key selects. */
  byWriteKey(writeKey: string): Workspace | undefined {
    // Looked up by digest: a Map compares strings with an early exit, a digest's prefix tells nothing.
    const exact = this.byKey.get(tokenDigest(writeKey).toString('hex'))
    if (exact !== undefined) return exact
    for (const workspace of this.workspaces.values()) if (workspace.acceptsAnyWriteKey) return workspace
    return undefined
  }

  names(): string[] {
    return [...this.workspaces.keys()]
  }

  /** Counts completed reloads; tests wait on it. */
  get version(): number {
    return this.generation
  }

  get ready(): boolean {
    return this.workspaces.size > 0
  }

  /** Reloads the folder on change; each file that fails keeps its last good version. */
  watch(debounceMs = 100): void {
    this.watcher = watch(this.settings.mappingsDir, () => {
      clearTimeout(this.reloadTimer)
      this.reloadTimer = setTimeout(() => this.reload(), debounceMs)
    })
  }

  close(): void {
    clearTimeout(this.reloadTimer)
    this.watcher?.close()
  }

  /** One reload pass: what loads replaces, what fails or is gone keeps its last good version. */
  reload(): void {
    const next = new Map<string, Workspace>()
    if (this.builtinDefault && this.folderFiles().some(isDefaultFile)) this.builtinDefault = false
    for (const file of this.files()) {
      const name = path.basename(file, '.json')
      try {
        next.set(name, this.resolve(file))
        this.markFresh(name)
      } catch (error) {
        const problems = error instanceof MappingProblems ? error.problems.map((p) => p.message) : [(error as Error).message]
        this.events.reloadFailed(name, file, problems)
        const previous = this.workspaces.get(name)
        if (previous !== undefined) {
          next.set(name, previous)
          this.markStale(name, 'file invalid', file)
        }
      }
    }
    // A file replaced by delete-then-write is briefly gone: answering 404 then would lose events.
    for (const [name, previous] of this.workspaces) {
      if (next.has(name)) continue
      next.set(name, previous)
      this.markStale(name, 'file missing', previous.file)
    }
    if (next.size === 0) return
    this.install(next)
    this.events.reloaded(this.names())
  }

  private folderFiles(): string[] {
    return existsSync(this.settings.mappingsDir) ? listMappingFiles(this.settings.mappingsDir) : []
  }

  /** The folder's files, and the built-in default only while the folder has never had one. */
  private files(): string[] {
    const files = this.folderFiles()
    if (this.builtinDefault) files.unshift(this.settings.builtinDefaultFile)
    return files
  }

  private markStale(name: string, reason: 'file missing' | 'file invalid', file: string): void {
    if (this.staleNames.get(name) === reason) return
    this.staleNames.set(name, reason)
    this.events.stale(name, reason, file)
  }

  private markFresh(name: string): void {
    if (this.staleNames.delete(name)) this.events.fresh(name)
  }

  private install(next: Map<string, Workspace>): void {
    const byKey = new Map<string, Workspace>()
    for (const workspace of next.values()) for (const key of workspace.writeKeys) byKey.set(tokenDigest(key).toString('hex'), workspace)
    this.workspaces = next
    this.byKey = byKey
    this.generation++
  }

  private resolve(file: string): Workspace {
    const { workspace: name, compiled } = loadMappingFile(file)
    const { config } = compiled
    const { env, localKoala } = this.settings
    const notices: string[] = []
    const notice = (message: string) => notices.push(`workspace ${name}: ${message}`)

    let koala: Workspace['koala']
    const keyRef = config.koala.publicApiKey
    if (isSet(env, keyRef) || localKoala === undefined) {
      koala = {
        baseUrl: config.koala.baseUrl ?? this.settings.koalaBaseUrl,
        publicApiKey: resolveSecret(keyRef, env, file, '/koala/publicApiKey')
      }
    } else {
      // Its name as key tells the workspaces' requests apart in the simulator's /_sim/requests.
      koala = { baseUrl: localKoala.baseUrl, publicApiKey: name }
      notice(`${keyRef.env} is not set: events go to the local Koala simulator at ${localKoala.baseUrl} (key "${name}")`)
    }

    const secretRefs = config.auth?.sharedSecret === undefined ? [] : [config.auth.sharedSecret].flat()
    const sharedSecrets = secretRefs.filter((ref) => isSet(env, ref)).map((ref) => env[ref.env] as string)
    const tokenRefs = config.auth?.tokens ?? []
    const tokenDigests = tokenRefs.filter((ref) => isSet(env, ref)).map((ref) => tokenDigest(env[ref.env] as string))
    const unsignedWebhooks = sharedSecrets.length === 0 && tokenDigests.length === 0 && (localKoala !== undefined || this.settings.allowUnsignedWebhooks)
    if (sharedSecrets.length === 0 && tokenDigests.length === 0) {
      const names = secretRefs.map((ref) => ref.env).join(', ')
      const missing = `no webhook shared secret${names ? ` (${names} not set)` : ''}`
      if (localKoala !== undefined) notice(`${missing}: /webhook/${name} accepts UNSIGNED requests (insecure local mode)`)
      else if (unsignedWebhooks) notice(`${missing}: /webhook/${name} accepts UNSIGNED requests (ALLOW_UNSIGNED_WEBHOOKS is set)`)
      else notice(`${missing}: /webhook/${name} is closed (401) until a secret is set, or ALLOW_UNSIGNED_WEBHOOKS=true`)
    }
    const trustSignedFirstEvent = config.auth?.trustSignedFirstEvent ?? false
    if (trustSignedFirstEvent && sharedSecrets.length > 0) notice('auth.trustSignedFirstEvent is set: whoever captured one signed event can append any events to a batch')

    const keyRefs = config.auth?.writeKeys ?? []
    const writeKeys = keyRefs.filter((ref) => isSet(env, ref)).map((ref) => env[ref.env] as string)
    const acceptsAnyWriteKey = writeKeys.length === 0 && localKoala !== undefined && name === 'default'
    if (writeKeys.length === 0) {
      const names = keyRefs.map((ref) => ref.env).join(', ')
      notice(
        acceptsAnyWriteKey
          ? `no Segment write key${names ? ` (${names} not set)` : ''}: the Tracking API takes ANY write key for this workspace (insecure local mode)`
          : `no Segment write key${names ? ` (${names} not set)` : ''}: the Tracking API door is closed for this workspace`
      )
    }
    const said = notices.join('\n')
    if (this.announced.get(name) !== said) {
      this.announced.set(name, said)
      for (const message of notices) this.events.notice(message)
    }
    return { name, file, compiled, koala, sharedSecrets, unsignedWebhooks, tokenDigests, trustSignedFirstEvent, writeKeys, acceptsAnyWriteKey }
  }
}

function isDefaultFile(file: string): boolean {
  return path.basename(file) === 'default.json'
}

function isSet(env: NodeJS.ProcessEnv, ref: SecretRef): boolean {
  return env[ref.env] !== undefined && env[ref.env] !== ''
}
