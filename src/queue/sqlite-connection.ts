import Database from 'better-sqlite3'

/**
 * Every better-sqlite3 object this process made, kept reachable until it exits. Built against
 * Node 24.19 or later, a better-sqlite3 object removes an environment cleanup hook when V8
 * collects it, and Node aborts the process (SIGABRT, "Assertion failed: (env) != nullptr") when
 * that collection runs outside a JavaScript context, as a young-generation one can: seen in this
 * suite's CI run and reproduced by test/queue/sqlite-lifetime.test.ts. An object that is never
 * collected is freed by that hook when the process ends, which is safe. Hence: a connection
 * prepares each SQL text once, pragmas run through `exec` (which makes no statement object), and
 * a closed connection stays here. A service opens one; a test run, a few thousand.
 */
const KEPT_FOR_LIFE: SqliteConnection[] = []

/** An open SQLite file and its statement cache. */
export type SqliteConnection = {
  readonly db: Database.Database
  /** The prepared statement of `sql`, prepared on its first use and the same one after. */
  prepare(sql: string): Database.Statement
}

/** Opens `file` (created when missing, unless readonly); nothing it makes is ever garbage collected (see above). */
export function openSqlite(file: string, options: { readonly?: boolean } = {}): SqliteConnection {
  const db = new Database(file, { readonly: options.readonly === true })
  const statements = new Map<string, Database.Statement>()
  const connection: SqliteConnection = {
    db,
    prepare(sql) {
      let statement = statements.get(sql)
      if (statement === undefined) {
        statement = db.prepare(sql)
        statements.set(sql, statement)
      }
      return statement
    }
  }
  KEPT_FOR_LIFE.push(connection)
  return connection
}
