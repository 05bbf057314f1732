import postgres from 'postgres'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import * as schema from './schema.js'

export type Db = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql }
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
/** Anything queries can run on: the pool or an open transaction. */
export type Executor = Db | Tx
/** The pool, not an open transaction: only the pool carries postgres.js's client. */
export const isPool = (db: Executor): db is Db => '$client' in db
export type Sql = postgres.Sql

export type DbHandle = { db: Db; sql: Sql; close: () => Promise<void> }

/**
 * How long a connection waits before connecting again after failing (seconds, by the pool's
 * count of failures in a row). postgres.js's default grows to 20 s, so after an outage of a
 * few seconds under load the pool came back ~20 s after the database did; this one is at
 * most half a second, a few attempts per second per connection while the database is away.
 */
export const reconnectDelaySeconds = (failures: number) => Math.min(0.05 * 2 ** failures, 0.5)

export function connectDb(url: string, opts: { poolSize?: number; appName?: string } = {}): DbHandle {
  const sql = postgres(url, {
    // two at least: migrations hold a lock on one connection while running on another
    max: Math.max(2, opts.poolSize ?? 10),
    // fail fast when the database is away, so /healthz and requests answer 503 quickly (a server
    // that accepted the connection gets a second window: the driver patch's stalled-process case)
    connect_timeout: 3,
    backoff: reconnectDelaySeconds,
    idle_timeout: 60,
    onnotice: () => {},
    // Timestamps cross the wire as text (drizzle turns off postgres.js date parsing); UTC
    // keeps that text unambiguous for the few raw queries that read it.
    connection: { TimeZone: 'UTC', application_name: opts.appName ?? 'livechat' },
  })
  const db = drizzle(sql, { schema })
  return { db, sql, close: () => sql.end({ timeout: 5 }) }
}

/**
 * One of the pool's connections, to itself, with drizzle on it, for a job that streams with
 * COPY (the export): postgres.js also sends other queries to busy connections, and fails
 * them with COPY_IN_PROGRESS while a COPY streams on one. Release it when done.
 */
export async function reserveDb(db: Db): Promise<{ db: Db; release: () => void }> {
  const connection = await db.$client.reserve()
  // drizzle reads (and sets) the parsers in `options`, which postgres.js gives the pool's
  // handle only; the connection is the pool's and parses with those very options
  const client = Object.assign(connection, { options: db.$client.options })
  return { db: drizzle(client, { schema }), release: () => connection.release() }
}

/** Postgres text timestamps ("2026-11-24 10:15:30.12+00") as a Date. */
export function parseDbTime(value: string | Date): Date {
  if (value instanceof Date) return value
  // the connection's TimeZone is UTC, so the text ends in +00: the common case without a regex
  if (value.endsWith('+00')) return new Date(`${value.slice(0, 10)}T${value.slice(11, -3)}Z`)
  return new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'))
}
