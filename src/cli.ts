import { Command, CommanderError, Option } from 'commander'
import { AdapterError } from './errors'
import { BUILTIN_MAPPINGS_DIR, mappingsDir } from './cli/mappings-dir'
import { addQueueCommand } from './cli/queue-program'
import type { ImportCommandOptions } from './cli/import-command'
import type { ReplayCommandOptions } from './cli/replay-command'

// Each command's module is loaded when that command runs: `map` need not load express,
// pino and prom-client, which took ~0.4 s of every start.

const { version } = require('../package.json') as { version: string }

/** Exit statuses: 0 done, 1 the command ran and found problems, 2 usage or configuration errors. */
const EXIT = { ok: 0, problems: 1, usage: 2 } as const

function buildProgram(): Command {
  const program = new Command('koala-adapter')
    .description('Forwards Segment calls to Koala: map events, check mapping files')
    .version(version)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })

  program
    .command('map')
    .description('map Segment events (JSON object, array, NDJSON or /v1/batch envelope) to Koala requests, as NDJSON')
    .argument('[files...]', 'event files; "-" or none for stdin')
    .option('--mappings <dir>', 'mapping folder (default: ./mappings, else the built-in one)')
    .addOption(new Option('--workspace <name>', 'use <mappings>/<name>.json (default: default)').conflicts('mapping'))
    .option('--mapping <file>', 'use this mapping file')
    .option('--batch', 'print the grouped Koala requests for all events instead of one line per event')
    .option('--explain', 'add which paths gave the identity and which subscriptions matched')
    .action(async (files: string[], options) => {
      const { runMap } = await import('./cli/map-command')
      runMap(files, options, writeLine, (line) => process.stderr.write(line + '\n'))
    })

  program
    .command('check')
    .description('validate mapping files: "ok <file>" per good file, "<file>: <pointer>: <message>" per problem')
    .argument('[paths...]', 'files or folders (default: the mapping folder)')
    .option('--mappings <dir>', 'mapping folder used when no path is given')
    .action(async (paths: string[], options) => {
      const { runCheck } = await import('./cli/check-command')
      if (!runCheck(paths, options, writeLine)) process.exitCode = EXIT.problems
    })

  program
    .command('import')
    .description("convert Segment's export of a Koala destination's subscriptions (Public API response or `terraform show -json`) into a mapping file")
    .argument('<file>', 'the export; - for stdin')
    .option('--out <file>', 'write the mapping file here instead of stdout')
    .option('--force', 'with --out: replace an existing file')
    .option('--base <file>', 'take version, Koala key, auth, identity and skip from this mapping file (default: the built-in default.json)')
    .action(async (file: string, options: ImportCommandOptions) => {
      const { runImport } = await import('./cli/import-command')
      const status = runImport(file, options, (text) => process.stdout.write(text), (line) => process.stderr.write(line + '\n'))
      if (status !== 0) process.exitCode = EXIT.problems
    })

  program
    .command('serve')
    .description('run the service: Segment webhook and Tracking API doors, delivering to Koala')
    .option('--port <n>', 'port to listen on (default: PORT, else 8080)', parsePort)
    .option('--mappings <dir>', 'mapping folder (default: ./mappings, else the built-in one)')
    .option('--queue <url>', 'queue mode: store events in sqlite:PATH or postgres://…, answer, deliver in the background (default: QUEUE_URL, else direct mode)')
    .action(async (options: { port?: number; mappings?: string; queue?: string }) => {
      const { runServe } = await import('./cli/serve-command')
      await runServe({ port: options.port, queueUrl: options.queue, mappingsDir: mappingsDir(options.mappings), builtinDefaultFile: `${BUILTIN_MAPPINGS_DIR}/default.json` })
    })

  program
    .command('replay')
    .description('replay Segment archives into Koala: S3 layout folders, .gz/.json/.jsonl/.ndjson files (compressed or not), or - for stdin')
    .argument('<paths...>', 'files, folders (walked; [prefix/]segment-logs/<source-id>/<day-ms>/ understood) or - for stdin')
    .requiredOption('--workspace <name>', 'the workspace whose mapping and Koala key to use (<mappings>/<name>.json; default is built in)')
    .option('--mappings <dir>', 'mapping folder (default: ./mappings, else the built-in one)')
    .option('--from <date>', 'only events from this ISO date or date-time on (by timestamp; earlier day folders are skipped)')
    .option('--to <date>', 'only events before the end of this date, or before this date-time (later day folders are skipped)')
    .option('--source <id>', 'only this Segment source id (its segment-logs/<id>/ folder); repeatable', (id: string, ids: string[]) => [...ids, id], [])
    .option('--shard <K/N>', 'take shard K of N: a stable split of the files, so N machines share one archive')
    .option('--concurrency <n>', 'Koala requests in flight (default: REPLAY_CONCURRENCY, else 8)')
    .option('--rate <r>', 'at most R Koala requests per second')
    // Gone, but still parsed: replay-command refuses it with a message naming what replaces it.
    .addOption(new Option('--workers <n>').hideHelp())
    .option('--map-threads <n>', 'threads parsing and mapping lines for this one, which keeps the archive\'s order (default: REPLAY_MAP_THREADS, else auto: 2 on 2+ cores; 0: none)')
    .option('--dry-run', 'send nothing: write the Koala requests as NDJSON {"endpoint","body"} (needs no Koala key)')
    .option('--out <file>', 'with --dry-run: write the requests here instead of stdout')
    .option('--checkpoint <file>', 'record progress here and resume from it: a killed run, started again the same way, picks up where it stopped')
    .option('--dead-letter <file>', `append what Koala refused or that ran out of retries here, as replayable NDJSON (default: ./replay-dead-letter.ndjson)`)
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress bar or progress lines')
    .action(async (paths: string[], options: ReplayCommandOptions) => {
      const { runReplayCommand } = await import('./cli/replay-command')
      process.exitCode = await runReplayCommand(paths, options)
    })

  program
    .command('sim')
    .description('run a local Koala simulator: checks requests against Koala\'s schema, records them, injects faults')
    .option('--port <n>', 'port to listen on (default: 8090)', parsePort)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--keys <list>', 'comma-separated public API keys it accepts (default: any)')
    .action(async (options: { port?: number; host: string; keys?: string }) => {
      const { runSim } = await import('./cli/sim-command')
      await runSim(options)
    })

  addQueueCommand(program)

  return program
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AdapterError('USAGE', `--port must be a port number, got "${value}"`)
  return port
}

function writeLine(line: string): void {
  process.stdout.write(line + '\n')
}

/** Runs the CLI on `argv`; never throws, sets the exit code instead. */
export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // A closed pipe (`| head`) is the reader's choice, not our failure.
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok)
    throw error
  })
  try {
    await buildProgram().parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage
    } else if (error instanceof AdapterError && error.code !== 'INTERNAL') {
      process.stderr.write(`koala-adapter: ${error.message}\n`)
      process.exitCode = EXIT.usage
    } else {
      process.stderr.write(`koala-adapter: unexpected error: ${(error as Error).stack ?? String(error)}\n`)
      process.exitCode = EXIT.problems
    }
  }
}

if (require.main === module) {
  void main(process.argv)
}
