import { loadConfig } from '../config'
import { startSimulator } from '../simulator/start-simulator'

/** `koala-adapter sim`: runs the Koala simulator until SIGTERM or SIGINT. */
export async function runSim(options: { port?: number; host: string; keys?: string }): Promise<void> {
  const port = options.port ?? loadConfig().simPort
  const keys = options.keys?.split(',').map((key) => key.trim()).filter(Boolean)
  const simulator = await startSimulator({ port, host: options.host, keys })
  process.stderr.write(`Koala simulator listening on ${simulator.url}\n`)
  process.stderr.write(`  set KOALA_BASE_URL=${simulator.baseUrl} to send to it; GET ${simulator.url}/_sim/requests lists what it accepted\n`)
  const stop = () => void simulator.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
