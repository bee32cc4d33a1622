import { randomBytes } from 'node:crypto'
import { Client } from 'pg'
import { PostgresQueueStore } from '../../src/queue/postgres-queue-store'
import type { QueueStoreOptions } from '../../src/queue/queue-store-options'

/** The test database: PostgreSQL on this machine, trust auth (`.ci/run` starts it when it is down). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A schema name of its own for one store, so parallel test runs never share tables. */
export function freshSchemaName(): string {
  return `queue_test_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** Runs SQL on the test database from a connection of its own (the test's hand on the tables, not the store's); resolves its rows. */
export async function runSql<Row = Record<string, unknown>>(sql: string): Promise<Row[]> {
  const client = new Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    return (await client.query(sql)).rows as Row[]
  } finally {
    await client.end()
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await runSql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}

/**
 * Stores of the test's own, each on a schema of its own: `open` and `freshSchema` for its
 * tests, and an afterEach (registered here) that runs `beforeCleanup`'s, closes the stores
 * and drops the schemas.
 */
export function usePostgresStores(): { open(options?: QueueStoreOptions): Promise<PostgresQueueStore>; freshSchema(): string; beforeCleanup(cleanup: () => Promise<void>): void } {
  const schemas: string[] = []
  const stores: PostgresQueueStore[] = []
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups) await cleanup()
    for (const store of stores.splice(0)) await store.close()
    for (const schema of schemas.splice(0)) await dropSchema(schema)
  })
  return {
    async open(options = {}) {
      const store = await PostgresQueueStore.open(TEST_DATABASE_URL, options)
      stores.push(store)
      return store
    },
    freshSchema() {
      const schema = freshSchemaName()
      schemas.push(schema)
      return schema
    },
    beforeCleanup: (cleanup) => void cleanups.push(cleanup)
  }
}
