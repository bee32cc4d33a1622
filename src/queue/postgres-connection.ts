import { Pool } from 'pg'
import type { QueueStoreSettings } from './queue-store-options'

/**
 * The database's clock as epoch ms. Every replica reads leases, linger and ages against this
 * one clock: replicas' own clocks drift apart, and a lease one replica thinks expired would
 * be taken over while its owner still delivers. now() is the transaction's start, so one
 * transaction sees one time.
 */
export const DB_NOW = '(extract(epoch from now()) * 1000)::bigint'

/** SQL for the time at parameter `$param`: the store's given clock when it holds one, the database's when it holds null. */
export function clockAt(param: number): string {
  return `COALESCE($${param}::bigint, ${DB_NOW})`
}

/**
 * The store's connections, each with its timeouts set at connect (QueueStoreOptions says why
 * each), so a stuck lock, statement or replica turns into QUEUE_WRITE_FAILED (a 503 the sender
 * retries) instead of a request held open; keep-alive notices a database gone silent.
 */
export function postgresPool(url: string, settings: QueueStoreSettings): Pool {
  const pool = new Pool({
    connectionString: url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    keepAlive: true,
    options: [
      `-c lock_timeout=${settings.lockTimeoutMs}`,
      `-c statement_timeout=${settings.statementTimeoutMs}`,
      `-c idle_in_transaction_session_timeout=${settings.idleInTransactionTimeoutMs}`
    ].join(' ')
  })
  // An idle connection the server drops must not crash the process; the next query reports it.
  pool.on('error', () => undefined)
  return pool
}
