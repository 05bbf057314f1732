import postgres from 'postgres'
import { reconnectDelaySeconds } from '../db/client.js'

export const LOCKS_APP_NAME = 'livechat-locks'

export type AdvisoryLocks = {
  /** takes the lock unless another session holds it; true when this instance holds it now */
  tryLock: (key: number) => Promise<boolean>
  /** whether this instance still holds it (false once the connection was lost) */
  holds: (key: number) => Promise<boolean>
  unlock: (key: number) => Promise<void>
  /** drops every lock and closes the connection */
  close: () => Promise<void>
}

/**
 * Postgres session-level advisory locks (namespace, key) held on ONE connection of a
 * client of their own, however many locks an instance holds: a lock lives as long as that
 * connection, so when the instance dies, its locks go with it. When the connection is lost
 * (its backend terminated, the database restarted) the next call connects again, and
 * `holds` reports the old locks as lost. Not a connection reserved from the pool: postgres.js
 * cannot hand a reserved connection back once it closed, and a reserve() waiting while the
 * database is away is never settled (upstream #1195, #1199).
 */
export function advisoryLocks(databaseUrl: string, namespace: number): AdvisoryLocks {
  const sql = postgres(databaseUrl, {
    max: 1,
    // a lock must not go with an idle or aged connection
    idle_timeout: 0,
    max_lifetime: 0,
    fetch_types: false,
    connect_timeout: 3,
    backoff: reconnectDelaySeconds,
    onnotice: () => {},
    connection: { application_name: LOCKS_APP_NAME },
  })
  return {
    tryLock: async (key) => (await sql<{ locked: boolean }[]>`select pg_try_advisory_lock(${namespace}, ${key}) as locked`)[0]?.locked === true,
    holds: async (key) => (await sql<{ held: boolean }[]>`
      select exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted
        and classid = ${namespace} and objid = ${key} and objsubid = 2) as held`)[0]?.held === true,
    unlock: async (key) => {
      await sql`select pg_advisory_unlock(${namespace}, ${key})`
    },
    // closing the session releases its locks
    close: () => sql.end({ timeout: 1 }),
  }
}
