import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import type postgres from 'postgres'
import { applyMigrations, MIGRATION_LOCK, readMigrations, type Migration, type SchemaVersion } from '../db/migrate.js'
import { useStableTextFormats } from './backup.js'
import { displayName, dropProductSchema, holdsData, qualified, quoteIdent, type TableName } from './catalog.js'
import { decryptingStream, ENCRYPTED_MAGIC } from './crypto.js'
import { BackupError } from './errors.js'
import { ContentReader, FORMAT, FORMAT_VERSION, type Header, type Sequences, type TableEnd, type TableStart, type Trailer } from './format.js'

export type RestoreSummary = {
  takenAt: string
  /** the schema version the backup was taken at, and the one the database is at now */
  from: SchemaVersion
  to: SchemaVersion
  tables: { name: string; rows: number }[]
  rows: number
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b])

/** The backup's plain content, decrypted and decompressed as it is read. */
async function openContent(file: string, key: string | undefined): Promise<{ reader: ContentReader; close: () => void }> {
  let first: Buffer
  try {
    const handle = await open(file, 'r')
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(ENCRYPTED_MAGIC.length), 0, ENCRYPTED_MAGIC.length, 0)
      first = buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch (err) {
    throw new BackupError(`cannot read ${file}: ${(err as Error).message}`)
  }
  const encrypted = first.equals(ENCRYPTED_MAGIC)
  if (!encrypted && !first.subarray(0, 2).equals(GZIP_MAGIC)) throw new BackupError(`${file} is not a livechat backup`)
  if (encrypted && !key) throw new BackupError('this backup is encrypted: set BACKUP_KEY to the key it was made with')
  const gunzip = createGunzip()
  const layers = encrypted && key ? [decryptingStream(key)] : []
  pipeline([createReadStream(file), ...layers, gunzip]).catch((err: unknown) => gunzip.destroy(err as Error))
  return { reader: new ContentReader(gunzip), close: () => gunzip.destroy() }
}

const isZlibError = (err: unknown) => /^Z_/.test(String((err as { code?: unknown }).code ?? ''))

function readHeader(header: Header, known: { when: number }[]): number {
  if (header.format !== FORMAT) throw new BackupError('this file is not a livechat backup')
  if (header.formatVersion > FORMAT_VERSION) throw new BackupError(`this backup has format version ${header.formatVersion}, newer than this release reads (${FORMAT_VERSION}): restore it with the release that made it`)
  const at = known.findIndex((m) => m.when === header.schema.when)
  if (at === -1) {
    throw new BackupError(`this backup was taken at schema version ${header.schema.tag ?? header.schema.when}, which this release does not have: restore it with the release that made it, or a newer one`)
  }
  return at
}

async function refuseWhileServersRun(tx: postgres.TransactionSql): Promise<void> {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and application_name like 'livechat%' and application_name <> 'livechat-cli'`
  if ((row?.n ?? 0) > 0) throw new BackupError('livechat servers are connected to this database: stop them before restoring, then start them again')
}

async function copyTable(tx: postgres.TransactionSql, reader: ContentReader, expected: TableName): Promise<number> {
  const start = await reader.json<TableStart>(`the table ${displayName(expected)}`)
  if (start.table?.schema !== expected.schema || start.table.name !== expected.name || !Array.isArray(start.columns)) {
    throw new BackupError(`the backup is damaged: expected the table ${displayName(expected)}`)
  }
  const copy = (await tx.unsafe(`copy ${qualified(start.table)} (${start.columns.map(quoteIdent).join(', ')}) from stdin`).writable()) as Writable
  let rows: number
  try {
    rows = await reader.rowsTo(copy)
    copy.end()
    await finished(copy)
  } catch (err) {
    copy.destroy()
    if (err instanceof BackupError || isZlibError(err)) throw err
    throw new BackupError(`restoring ${displayName(expected)} failed: ${(err as Error).message}`)
  }
  const end = await reader.json<TableEnd>(`the row count of ${displayName(expected)}`)
  if (end.rows !== rows) throw new BackupError(`the backup is damaged: ${displayName(expected)} holds ${rows} rows, its count says ${end.rows}`)
  return rows
}

/**
 * Restores a backup file into this database in one transaction: the schema is rebuilt at
 * the backup's version (the migrations up to it), every row is copied back as it was,
 * sequences continue where they were, then the newer migrations of this release run.
 * A database holding data is refused unless `force`; a failure changes nothing.
 */
export async function restoreFromFile(
  sql: postgres.Sql,
  file: string,
  opts: { key?: string; force?: boolean; migrations?: Migration[] } = {},
): Promise<RestoreSummary> {
  const { reader, close } = await openContent(file, opts.key)
  try {
    const header = await reader.json<Header>('its header')
    const migrations = opts.migrations ?? readMigrations()
    const at = readHeader(header, migrations)
    const latest = migrations[migrations.length - 1]
    const tables = await sql.begin(async (tx) => {
      // no server may migrate meanwhile
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
      await refuseWhileServersRun(tx)
      if (!opts.force && (await holdsData(tx))) throw new BackupError('this database already holds data: restore into an empty one, or pass --force to replace everything in it')
      await dropProductSchema(tx)
      await useStableTextFormats(tx)
      await applyMigrations(tx, migrations.slice(0, at + 1))
      const counts: RestoreSummary['tables'] = []
      for (const table of header.tables) counts.push({ name: displayName(table), rows: await copyTable(tx, reader, table) })
      const { sequences } = await reader.json<Sequences>('the sequence states')
      for (const s of sequences ?? []) {
        if (s.last !== null) await tx`select setval(${qualified(s)}::regclass, ${s.last}::bigint, true)`
      }
      const trailer = await reader.json<Trailer>('its end')
      const rows = counts.reduce((sum, t) => sum + t.rows, 0)
      if (!trailer.end || trailer.tables !== counts.length || trailer.rows !== rows) throw new BackupError('the backup is damaged: its totals do not match its content')
      if (!(await reader.atEnd())) throw new BackupError('the backup is damaged: there is data after its end')
      await applyMigrations(tx, migrations.slice(at + 1))
      return counts
    })
    return {
      takenAt: header.createdAt,
      from: header.schema,
      to: latest ? { tag: latest.tag, when: latest.when, hash: latest.hash } : header.schema,
      tables,
      rows: tables.reduce((sum, t) => sum + t.rows, 0),
    }
  } catch (err) {
    if (isZlibError(err)) throw new BackupError(`the backup is truncated or damaged (${(err as Error).message})`)
    throw err
  } finally {
    close()
  }
}
