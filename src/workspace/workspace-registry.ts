import { existsSync, watch, type FSWatcher } from 'node:fs'
import path from 'node:path'
import { MappingProblems } from '../errors'
import { listMappingFiles, loadMappingFile } from '../mapping/load-mapping'
import { resolveWorkspace, type ResolveSettings, type Workspace } from './resolve-workspace'

export type RegistrySettings<W extends Workspace> = ResolveSettings & {
  mappingsDir: string
  /** Used when the mapping folder has no default.json: `default` always exists. */
  builtinDefaultFile: string
  /** What a door makes of a resolved workspace (its door policy), and what a person must be told about that. */
  admit(workspace: Workspace): { workspace: W; notices: string[] }
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
export class WorkspaceRegistry<W extends Workspace = Workspace> {
  private workspaces = new Map<string, W>()
  private watcher: FSWatcher | undefined
  private reloadTimer: NodeJS.Timeout | undefined
  private generation = 0
  private announced = new Map<string, string>()
  /** The folder had no default.json at load(): the built-in one serves until the folder gets one. */
  private builtinDefault = false
  private readonly staleNames = new Map<string, 'file missing' | 'file invalid'>()

  constructor(
    private readonly settings: RegistrySettings<W>,
    private readonly events: RegistryEvents
  ) {}

  /** Loads every file; throws (with file and pointer, or the variable's name) when any fails. */
  load(): void {
    const next = new Map<string, W>()
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

  get(name: string): W | undefined {
    return this.workspaces.get(name)
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
    const next = new Map<string, W>()
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

  private install(next: Map<string, W>): void {
    this.workspaces = next
    this.generation++
  }

  private resolve(file: string): W {
    const { workspace: resolved, notices: targetNotices } = resolveWorkspace(loadMappingFile(file), this.settings)
    const { workspace, notices: doorNotices } = this.settings.admit(resolved)
    const notices = [...targetNotices, ...doorNotices].map((message) => `workspace ${workspace.name}: ${message}`)
    const said = notices.join('\n')
    if (this.announced.get(workspace.name) !== said) {
      this.announced.set(workspace.name, said)
      for (const message of notices) this.events.notice(message)
    }
    return workspace
  }
}

/** The file the `default` workspace is served from: the folder's default.json, else the built-in one. */
export function defaultMappingFile(mappingsDir: string, builtinDefaultFile: string): string {
  const own = path.join(mappingsDir, 'default.json')
  return existsSync(own) ? own : builtinDefaultFile
}

function isDefaultFile(file: string): boolean {
  return path.basename(file) === 'default.json'
}
