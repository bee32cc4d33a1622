import { expect } from 'chai'
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { WorkspaceRegistry } from '../../src/workspace/workspace-registry'
import { tempDir } from '../support/temp-dir'

const ROOT = path.join(__dirname, '..', '..')
const BUILTIN_DEFAULT = path.join(ROOT, 'mappings', 'default.json')

/**
 * Writes `files` into a ConfigMap volume as the kubelet does: a new timestamped folder,
 * a `..data_tmp` link to it renamed over `..data` (one atomic swap), then a top-level
 * link per new key, and the old folder removed. The top-level files are links through
 * `..data`: their own entries never change on an update.
 */
function writeConfigMap(dir: string, files: Record<string, unknown>, generation: number): void {
  const version = `..2026_11_02_10_00_0${generation}.000000001`
  mkdirSync(path.join(dir, version))
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, version, name), JSON.stringify(content))
  const data = path.join(dir, '..data')
  const previous = existsSync(data) ? path.join(dir, readlinkSync(data)) : undefined
  symlinkSync(version, path.join(dir, '..data_tmp'))
  renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'))
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(path.join('..data', name), path.join(dir, name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  if (previous !== undefined) rmSync(previous, { recursive: true })
}

describe('mappings from a Kubernetes ConfigMap volume', () => {
  it('are reloaded when Kubernetes swaps the volume\'s ..data link: an edited file and a new one both take effect', async () => {
    const dir = tempDir('configmap-')
    const mapping = (keyVariable: string) => {
      const file = JSON.parse(readFileSync(BUILTIN_DEFAULT, 'utf8'))
      file.koala.publicApiKey = { env: keyVariable }
      return file
    }
    writeConfigMap(dir, { 'acme.json': mapping('ACME_KEY_OLD') }, 1)

    let reloaded: (names: string[]) => void = () => {}
    const registry = new WorkspaceRegistry(
      { mappingsDir: dir, builtinDefaultFile: BUILTIN_DEFAULT, koalaBaseUrl: 'https://koala.test/web/projects', admit: (workspace) => ({ workspace, notices: [] }), env: { KOALA_PUBLIC_API_KEY: 'pk_default', ACME_KEY_OLD: 'pk_old', ACME_KEY_NEW: 'pk_new', BETA_KEY: 'pk_beta' } },
      {
        notice: () => {},
        reloadFailed: (_name, file, problems) => expect.fail(`${file}: ${problems.join('; ')}`),
        reloaded: (names) => reloaded(names),
        stale: (name, reason) => expect.fail(`${name}: ${reason}`),
        fresh: () => {}
      }
    )
    registry.load()
    expect(registry.get('acme')?.koala.publicApiKey).to.equal('pk_old')
    registry.watch(10)
    try {
      const updated = new Promise<void>((resolve) => {
        reloaded = () => {
          if (registry.get('acme')?.koala.publicApiKey === 'pk_new' && registry.get('beta') !== undefined) resolve()
        }
      })
      writeConfigMap(dir, { 'acme.json': mapping('ACME_KEY_NEW'), 'beta.json': mapping('BETA_KEY') }, 2)
      await updated
      expect(registry.names()).to.have.members(['acme', 'beta', 'default'])
      expect(registry.get('beta')?.koala.publicApiKey).to.equal('pk_beta')
    } finally {
      registry.close()
    }
  })
})
