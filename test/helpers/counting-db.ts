import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from '../../src/db/schema.js'
import { fileDatabaseUrl } from './app.js'

/**
 * A pool of its own on this file's database (so its batchers are fresh) that counts the
 * statements it sends: postgres.js calls `debug` once per query. `count` runs some work and
 * says how many statements it took.
 */
export async function countingDb(t: { teardown: (fn: () => unknown) => void }, max = 1) {
  const counter = { queries: 0 }
  const sql = postgres(await fileDatabaseUrl(), { max, onnotice: () => {}, debug: () => { counter.queries++ } })
  t.teardown(() => sql.end())
  // each connection's first query also fetches its array types: open them all before counting
  await Promise.all(Array.from({ length: max }, () => sql`select pg_sleep(0.05)`))
  counter.queries = 0
  const count = async <T>(work: () => Promise<T>) => {
    const before = counter.queries
    const result = await work()
    return { result, queries: counter.queries - before }
  }
  return { db: drizzle(sql, { schema }), counter, count }
}
