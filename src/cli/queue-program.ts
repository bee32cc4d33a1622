import { Command, Option } from 'commander'
import { AdapterError } from '../errors'
import type { DeadLettersOptions, PurgeOptions, QueueStatusOptions, RetryOptions } from './queue-command'

function writeLine(line: string): void {
  process.stdout.write(line + '\n')
}

/** `--queue`, on each subcommand: an operator types it after the subcommand's name. */
function queueOption(): Option {
  return new Option('--queue <url>', 'the queue: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE[?schema=NAME] (default: QUEUE_URL, as `serve` takes it)')
}

function parseLimit(value: string): number {
  const limit = Number(value)
  if (!Number.isInteger(limit) || limit < 1) throw new AdapterError('USAGE', `--limit must be a whole number, 1 or more, got "${value}"`)
  return limit
}

/**
 * Adds `queue status | dead-letters | retry | purge`, which operate queue mode's store
 * (QUEUE_URL); each loads its module only when it runs, as the other commands do.
 */
export function addQueueCommand(program: Command): void {
  const queue = program.command('queue').description("operate queue mode's store: what waits, dead letters, retry, purge")

  queue
    .command('status')
    .description('per workspace: entries waiting (depth), the oldest one\'s age, their bytes, dead letters, paused (and why); then totals')
    .addOption(queueOption())
    .option('--json', 'print the status as one JSON object')
    .action(async (options: QueueStatusOptions) => {
      const { runQueueStatus } = await import('./queue-command')
      await runQueueStatus(options, writeLine)
    })

  queue
    .command('dead-letters')
    .description("list dead letters, oldest first: id, workspace, endpoint, kind, message_id, attempts, since when, and Koala's answer (emails in it masked); never who they are about or what they hold unless --show-entries")
    .addOption(queueOption())
    .option('--workspace <name>', 'only this workspace\'s')
    .option('--limit <n>', 'list at most N (default: 100)', parseLimit)
    .option('--json', 'print {"total", "deadLetters": [...]} as one JSON object')
    .option('--show-entries', 'also print who each is about and the entry itself: PERSONAL DATA (emails, traits), unmasked, reasons included; keep it out of tickets and logs')
    .action(async (options: DeadLettersOptions) => {
      const { runQueueDeadLetters } = await import('./queue-command')
      await runQueueDeadLetters(options, writeLine)
    })

  queue
    .command('retry')
    .description('put dead letters back in the queue (each in its person\'s order), to be sent again; prints how many')
    .addOption(queueOption())
    .option('--workspace <name>', 'only this workspace\'s (default: all)')
    .action(async (options: RetryOptions) => {
      const { runQueueRetry } = await import('./queue-command')
      await runQueueRetry(options, writeLine)
    })

  queue
    .command('purge')
    .description("delete a workspace's waiting entries and dead letters; without --yes only says how many it would delete (exit 2)")
    .addOption(queueOption())
    .requiredOption('--workspace <name>', 'the workspace whose entries to delete')
    .option('--yes', 'delete them')
    .action(async (options: PurgeOptions) => {
      const { runQueuePurge } = await import('./queue-command')
      await runQueuePurge(options, writeLine)
    })
}
