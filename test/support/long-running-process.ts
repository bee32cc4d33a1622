import { spawn, type ChildProcess } from 'node:child_process'

export type RunningProcess = {
  child: ChildProcess
  /** The `ready` pattern's match in the process's output. */
  match: RegExpExecArray
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string
  /** SIGTERM, then the exit status (SIGKILL after 10 s, which fails the caller's expectations). */
  stop(): Promise<number | null>
}

/**
 * Starts `node <args>` and resolves once its output matches `ready` (it says it listens);
 * rejects, with what it wrote, if it exits first. No polling, no sleeps: it waits on the output.
 */
export function startProcess(args: string[], options: { ready: RegExp; cwd: string; env: NodeJS.ProcessEnv }): Promise<RunningProcess> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let seen = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
    }
    return exited
  }
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      const match = options.ready.exec(seen)
      if (match !== null) resolve({ child, match, output: () => seen, stop })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then((code) => reject(new Error(`node ${args.join(' ')} exited ${code} before it was ready:\n${seen}`)))
  })
}
