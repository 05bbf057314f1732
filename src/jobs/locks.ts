import type { ReservedSql } from 'postgres'
import type { Sql } from '../db/client.js'

export type AdvisoryLocks = {
  /** takes the lock unless another session holds it; true when this instance holds it now */
  tryLock: (key: number) => Promise<boolean>
  /** whether this instance still holds it (false once the connection was lost) */
  holds: (key: number) => Promise<boolean>
  unlock: (key: number) => Promise<void>
  /** drops every lock and gives the connection back */
  close: () => Promise<void>
}

/**
 * Postgres session-level advisory locks (namespace, key) held on ONE connection reserved
 * from the pool, however many locks an instance holds: a lock lives as long as that
 * connection, so when the instance dies, its locks go with it. A connection that fails is
 * given up (with any locks still on it dropped first) and the next call reserves a new one;
 * `holds` then reports the old locks as lost.
 */
export function advisoryLocks(sql: Sql, namespace: number): AdvisoryLocks {
  let reserved: Promise<ReservedSql> | undefined

  async function drop(conn: ReservedSql): Promise<void> {
    try {
      // a pooled connection must not keep our locks
      await conn`select pg_advisory_unlock_all()`
    } catch {
      // a broken connection has lost them already
    }
    conn.release()
  }

  async function run<T>(query: (conn: ReservedSql) => Promise<T>): Promise<T> {
    const pending = (reserved ??= sql.reserve())
    let conn: ReservedSql
    try {
      conn = await pending
    } catch (err) {
      if (reserved === pending) reserved = undefined
      throw err
    }
    try {
      return await query(conn)
    } catch (err) {
      if (reserved === pending) {
        reserved = undefined
        await drop(conn)
      }
      throw err
    }
  }

  return {
    tryLock: (key) => run(async (c) => (await c<{ locked: boolean }[]>`select pg_try_advisory_lock(${namespace}, ${key}) as locked`)[0]?.locked === true),
    holds: async (key) => {
      if (!reserved) return false
      return run(async (c) => (await c<{ held: boolean }[]>`
        select exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted
          and classid = ${namespace} and objid = ${key} and objsubid = 2) as held`)[0]?.held === true)
    },
    unlock: async (key) => {
      if (reserved) await run((c) => c`select pg_advisory_unlock(${namespace}, ${key})`)
    },
    close: async () => {
      const pending = reserved
      reserved = undefined
      if (pending) await drop(await pending)
    },
  }
}
