import { spawn, type ChildProcess } from 'node:child_process'

/** Starts a child and resolves once a line of its output matches `ready`, with the match. */
export function startChild(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {}
): Promise<{ child: ChildProcess; match: RegExpExecArray; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let seen = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not start: ${args.join(' ')}\n${seen}`)), 60_000)
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      const match = ready.exec(seen)
      if (match === null) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      child.stderr!.off('data', onData)
      child.stdout!.resume()
      child.stderr!.resume()
      const stop = () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done()
          child.once('exit', () => done())
          child.kill('SIGTERM')
          setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
        })
      resolve({ child, match, stop })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${args.join(' ')}\n${seen}`)))
  })
}
