import { randomBytes } from 'node:crypto'
import { Client } from 'pg'

/** The test database: PostgreSQL on this machine, trust auth (`.ci/run` starts it when it is down). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A schema name of its own for one store, so parallel test runs never share tables. */
export function freshSchemaName(): string {
  return `queue_test_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** Runs SQL on the test database from a connection of its own (the test's hand on the tables, not the store's). */
export async function runSql(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await runSql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}
