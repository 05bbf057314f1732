import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { Executor } from './client.js'

const dialect = new PgDialect()

/**
 * Runs a raw statement as a prepared one when on the pool, so Postgres parses and plans it
 * once per connection (drizzle's `execute` does not prepare). In a transaction it runs as
 * usual. Rows come back as postgres.js gives them: snake_case, timestamps as text.
 */
export async function queryPrepared<T>(db: Executor, query: SQL): Promise<T[]> {
  if ('$client' in db) {
    const { sql, params } = dialect.sqlToQuery(query)
    return (await db.$client.unsafe(sql, params as never[], { prepare: true })) as unknown as T[]
  }
  return [...(await db.execute<Record<string, unknown>>(query))] as T[]
}
