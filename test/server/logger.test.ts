import { spawn } from 'node:child_process'
import path from 'node:path'
import { expect } from 'chai'

const ROOT = path.join(__dirname, '..', '..')

describe('logger', () => {
  it('keeps serving when stdout stops reading: lines over the queue limit are dropped, nothing blocks', async () => {
    // A child logs 120 MB into a pipe nobody reads (the OS buffers ~64 KB of it), then says it is alive on stderr.
    const script = `
      require(${JSON.stringify(path.join(ROOT, 'src', 'swc-hook.js'))})
      const { createLogger } = require(${JSON.stringify(path.join(ROOT, 'src', 'server', 'logger.ts'))})
      const logger = createLogger('info')
      const padding = 'x'.repeat(1000)
      const before = process.memoryUsage().rss
      for (let i = 0; i < 120000; i++) logger.info({ i, padding }, 'line')
      process.stderr.write('alive, rss grew ' + Math.round((process.memoryUsage().rss - before) / 1048576) + ' MB\\n')
      process.exit(0)`
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pause() // never read
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const alive = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child blocked on its log: ${stderr}`)), 15_000)
      child.stderr.on('data', () => {
        if (/alive, rss grew \d+ MB/.test(stderr)) {
          clearTimeout(timer)
          resolve(stderr)
        }
      })
    })
    child.kill('SIGKILL')
    const grew = Number(/rss grew (\d+) MB/.exec(alive)![1])
    // 120 MB of lines were written; at most 16 MB of them may wait in memory (measured: ~165 MB without the limit, ~50 with it, garbage included).
    expect(grew).to.be.below(100)
  })
})
