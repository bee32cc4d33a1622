import { startService } from '../server/start-service'

/** `koala-adapter serve`: runs until SIGTERM or SIGINT, then drains and exits 0. */
export async function runServe(options: { port?: number; queueUrl?: string; mappingsDir: string; builtinDefaultFile: string }): Promise<void> {
  const overrides: { port?: number; queueUrl?: string } = {}
  if (options.port !== undefined) overrides.port = options.port
  if (options.queueUrl !== undefined) overrides.queueUrl = options.queueUrl
  const service = await startService({ mappingsDir: options.mappingsDir, builtinDefaultFile: options.builtinDefaultFile, overrides })
  const shutdown = (signal: string) => {
    service.logger.info({ signal }, 'signal received')
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}
