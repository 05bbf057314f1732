import { fillPlaceholders, sql, type Param, type Placeholder, type SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import { isPool, type Executor } from './client.js'

const dialect = new PgDialect()

/** One input of a prepared statement: a placeholder bound at each call, or the value itself. */
export type StatementInput = Placeholder | Param

/**
 * A raw statement for a hot path, rendered to SQL text once: `build` gets one SQL fragment
 * per input, and returns the statement. On the pool it runs as a prepared statement (Postgres
 * parses and plans it once per connection) and a call only binds its values; building the
 * statement with drizzle on every call cost about as much CPU as the rest of the send route's
 * domain code (bench/send.ts, profiled). In a transaction it is built with the values and run
 * as usual. Rows come back as postgres.js gives them: snake_case, timestamps as text.
 */
export function preparedStatement<K extends string, T>(keys: readonly K[], build: (input: Record<K, StatementInput>) => SQL) {
  let text: { sql: string; params: unknown[] } | undefined
  return async (db: Executor, values: Record<K, unknown>): Promise<T[]> => {
    if (isPool(db)) {
      text ??= dialect.sqlToQuery(build(Object.fromEntries(keys.map((k) => [k, sql.placeholder(k)])) as unknown as Record<K, StatementInput>))
      return (await db.$client.unsafe(text.sql, fillPlaceholders(text.params, values) as never[], { prepare: true })) as unknown as T[]
    }
    const inline = Object.fromEntries(keys.map((k) => [k, sql.param(values[k])])) as Record<K, StatementInput>
    return [...(await db.execute<Record<string, unknown>>(build(inline)))] as T[]
  }
}

/** A drizzle query that can be prepared (select, update, ... built with `sql.placeholder` inputs). */
type Preparable<T> = { prepare: (name: string) => { execute: (values?: Record<string, unknown>) => Promise<T> } }

/**
 * A drizzle query for a hot path that reads whole rows: built once per database (the pool)
 * and run as a prepared statement, its rows mapped by drizzle as usual, so it needs no mapper
 * of its own (preparedStatement's rows are raw). A call only binds its placeholders' values;
 * in a transaction it is built per call as before. `name` only turns preparing on (postgres.js
 * names the statements itself).
 */
export function preparedQuery<K extends string, T>(name: string, build: (db: Executor) => Preparable<T>) {
  const prepared = new WeakMap<object, ReturnType<Preparable<T>['prepare']>>()
  return (db: Executor, values: Record<K, unknown>): Promise<T> => {
    if (!isPool(db)) return build(db).prepare(name).execute(values)
    let query = prepared.get(db)
    if (!query) prepared.set(db, (query = build(db).prepare(name)))
    return query.execute(values)
  }
}
