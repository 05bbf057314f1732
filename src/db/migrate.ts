import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type postgres from 'postgres'
import type { Db } from './client.js'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))
export const MIGRATION_LOCK = 727274001

/** One drizzle migration: its journal tag ("0003_notes"), its time stamp (drizzle's id for it) and its SQL. */
export type Migration = { tag: string; when: number; hash: string; statements: string[] }
/** Which migration a database was last brought to. */
export type SchemaVersion = { tag: string | null; when: number; hash: string }

/** The migrations of this release, oldest first, as drizzle's migrator reads them. */
export function readMigrations(folder = MIGRATIONS_FOLDER): Migration[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] }
  const files = readMigrationFiles({ migrationsFolder: folder })
  return journal.entries.map((entry, i) => {
    const file = files[i]
    if (!file || file.folderMillis !== entry.when) throw new Error(`drizzle journal and migration files disagree at ${entry.tag}`)
    return { tag: entry.tag, when: entry.when, hash: file.hash, statements: file.sql }
  })
}

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

type Queryable = postgres.Sql | postgres.TransactionSql

/** The last migration applied to this database, or undefined when it has none. */
export async function appliedSchemaVersion(sql: Queryable, known: Migration[] = readMigrations()): Promise<SchemaVersion | undefined> {
  const [table] = await sql<{ exists: boolean }[]>`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`
  if (!table?.exists) return undefined
  const [row] = await sql<{ hash: string; when: string }[]>`
    select hash, created_at::text as when from drizzle.__drizzle_migrations order by created_at desc limit 1`
  if (!row) return undefined
  const when = Number(row.when)
  return { tag: known.find((m) => m.when === when)?.tag ?? null, when, hash: row.hash }
}

/**
 * Applies `migrations` on an open transaction exactly as drizzle's migrator does (same
 * bookkeeping table and rows), so drizzle later carries on from where these stop. Restore
 * uses it to rebuild a backup's schema version, and the rest, inside its one transaction.
 */
export async function applyMigrations(tx: postgres.TransactionSql, migrations: Migration[]): Promise<void> {
  await tx`create schema if not exists drizzle`
  await tx`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`
  for (const m of migrations) {
    for (const statement of m.statements) await tx.unsafe(statement)
    await tx`insert into drizzle.__drizzle_migrations (hash, created_at) values (${m.hash}, ${m.when})`
  }
}
