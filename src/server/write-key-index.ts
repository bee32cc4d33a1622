import type { WorkspaceRegistry } from '../workspace/workspace-registry'
import type { ServedWorkspace } from './door-policy'
import { tokenDigest } from './token-digest'

/** The Tracking API's lookup of a workspace by write key, rebuilt after each registry (re)load. */
export class WriteKeyIndex {
  private byDigest = new Map<string, ServedWorkspace>()
  private anyKey: ServedWorkspace | undefined
  private builtFor = -1

  constructor(private readonly registry: WorkspaceRegistry<ServedWorkspace>) {}

  /** The workspace `writeKey` selects: its own, else one that accepts any key (local mode), else none. */
  lookup(writeKey: string): ServedWorkspace | undefined {
    if (this.builtFor !== this.registry.version) this.build()
    // Looked up by digest: a Map compares strings with an early exit, a digest's prefix tells nothing.
    return this.byDigest.get(tokenDigest(writeKey).toString('hex')) ?? this.anyKey
  }

  private build(): void {
    const byDigest = new Map<string, ServedWorkspace>()
    let anyKey: ServedWorkspace | undefined
    for (const name of this.registry.names()) {
      const workspace = this.registry.get(name) as ServedWorkspace
      for (const key of workspace.secrets.writeKeys) byDigest.set(tokenDigest(key).toString('hex'), workspace)
      if (workspace.doors.acceptsAnyWriteKey) anyKey ??= workspace
    }
    this.byDigest = byDigest
    this.anyKey = anyKey
    this.builtFor = this.registry.version
  }
}
