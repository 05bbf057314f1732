import { existsSync } from 'node:fs'
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import type postgres from 'postgres'
import { appliedSchemaVersion, type SchemaVersion } from '../db/migrate.js'
import { displayName, listSequences, listTables, qualified, quoteIdent } from './catalog.js'
import { encryptingStream } from './crypto.js'
import { BackupError } from './errors.js'
import { countLines, END_OF_ROWS, FORMAT, FORMAT_VERSION, line, put, type Header } from './format.js'

export type BackupSummary = { schema: SchemaVersion; tables: { name: string; rows: number }[]; rows: number }
export type BackupFile = BackupSummary & { file: string; bytes: number; encrypted: boolean }

// gzip level 1: COPY text shrinks about 5x already, and higher levels cost CPU the backup
// takes from a running server for a few percent more (measured in bench/backup.ts)
const GZIP_LEVEL = 1

/**
 * Session settings under which COPY text means one thing on every Postgres version:
 * ISO dates in UTC, hex bytea, floats with every digit.
 */
export async function useStableTextFormats(tx: postgres.TransactionSql): Promise<void> {
  await tx`set local datestyle = 'ISO, YMD'`
  await tx`set local timezone = 'UTC'`
  await tx`set local intervalstyle = 'postgres'`
  await tx`set local bytea_output = 'hex'`
  await tx`set local extra_float_digits = 3`
  await tx`set local statement_timeout = 0`
}

/**
 * Writes a consistent snapshot of every table (one repeatable-read, read-only transaction,
 * so the server keeps running and writing meanwhile) to `out` in the backup's plain format,
 * streaming each table with COPY: memory stays constant whatever the size.
 */
export async function writeBackup(sql: postgres.Sql, out: Writable, now: Date): Promise<BackupSummary> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    await useStableTextFormats(tx)
    const schema = await appliedSchemaVersion(tx)
    if (!schema) throw new BackupError('this database has no livechat schema (no migration was ever applied): nothing to back up')
    const tables = await listTables(tx)
    // read after the snapshot is taken: at least as far as any id in it
    const sequences = await listSequences(tx)
    const [server] = await tx<{ version: string }[]>`select current_setting('server_version') as version`
    const header: Header = {
      format: FORMAT, formatVersion: FORMAT_VERSION, createdAt: now.toISOString(), schema, postgres: server?.version ?? 'unknown',
      tables: tables.map(({ schema, name }) => ({ schema, name })),
    }
    await put(out, line(header))
    const counts: BackupSummary['tables'] = []
    for (const table of tables) {
      await put(out, line({ table: { schema: table.schema, name: table.name }, columns: table.columns }))
      // COPY of a query, not of the table: it also reads a partitioned table through its parent
      const rows = await tx.unsafe(`copy (select ${table.columns.map(quoteIdent).join(', ')} from ${qualified(table)}) to stdout`).readable()
      let count = 0
      for await (const chunk of rows as AsyncIterable<Buffer>) {
        count += countLines(chunk)
        await put(out, chunk)
      }
      await put(out, END_OF_ROWS)
      await put(out, line({ rows: count }))
      counts.push({ name: displayName(table), rows: count })
    }
    await put(out, line({ sequences }))
    const rows = counts.reduce((sum, t) => sum + t.rows, 0)
    await put(out, line({ end: true, tables: tables.length, rows }))
    return { schema, tables: counts, rows }
  })
}

/**
 * Writes a backup file: compressed, encrypted when `key` is given, readable by its owner
 * only (mode 600, it holds secrets). It appears under its name only once complete.
 */
export async function backupToFile(sql: postgres.Sql, file: string, opts: { key?: string; now?: Date } = {}): Promise<BackupFile> {
  if (existsSync(file)) throw new BackupError(`${file} already exists: choose another name`)
  const partial = `${file}.partial`
  let handle: FileHandle
  try {
    handle = await open(partial, 'wx', 0o600)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new BackupError(code === 'EEXIST' ? `${partial} exists: is another backup being written?` : `cannot write ${partial}: ${(err as Error).message}`)
  }
  const output = handle.createWriteStream({ flush: true })
  const gzip = createGzip({ level: GZIP_LEVEL })
  const written = pipeline([gzip, ...(opts.key ? [encryptingStream(opts.key)] : []), output])
  // a failure while the snapshot is still being read surfaces through the writes below
  written.catch(() => {})
  try {
    const summary = await writeBackup(sql, gzip, opts.now ?? new Date())
    gzip.end()
    await written
    await rename(partial, file)
    return { ...summary, file, bytes: (await stat(file)).size, encrypted: opts.key !== undefined }
  } catch (err) {
    // the file's own failure (no space left, an I/O error), not what it did to the snapshot's writes
    const writeFailure = output.errored ?? undefined
    gzip.destroy()
    await written.catch(() => {})
    await handle.close().catch(() => {})
    await rm(partial, { force: true })
    throw writeFailure ? new BackupError(`cannot write ${partial}: ${writeFailure.message}`) : err
  }
}
