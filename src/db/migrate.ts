import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import type { Db } from './client.js'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))
const MIGRATION_LOCK = 727274001

/**
 * Applies drizzle/ migrations. Instances starting together on one database take turns
 * (a session advisory lock on a reserved connection), so none sees a half-made schema.
 */
export async function runMigrations(db: Db): Promise<void> {
  const conn = await db.$client.reserve()
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`
    // runs on another pool connection: connectDb keeps at least two
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER })
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {})
    conn.release()
  }
}
