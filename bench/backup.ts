/**
 * backup: backup and restore of BENCH_MESSAGES (default 1,000,000) messages, in this process,
 * sampling its RSS: time, file size and peak RSS growth, next to the barest correct way to do
 * the same work in the same run (COPY every table to a gzip file and back, no framing, no
 * checks, no snapshot of the whole database). Target: RSS growth under 100 MiB.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import postgres from 'postgres'
import { backupToFile } from '../src/backup/backup.js'
import { listTables, qualified, type TableInfo } from '../src/backup/catalog.js'
import { put } from '../src/backup/format.js'
import { restoreFromFile } from '../src/backup/restore.js'
import { connectDb } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'
import { MiB, peakRssGrowth, seedManyMessages } from '../test/helpers/many-messages.js'
import { runBench, startBenchDb } from './lib.js'

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000)
const TEXT_BYTES = 120
const LIMIT_MIB = 100

const db = await startBenchDb()
const dir = mkdtempSync(join(tmpdir(), 'livechat-bench-backup-'))
const cli = (url: string) => postgres(url, { max: 3, onnotice: () => {}, connection: { application_name: 'livechat-cli' } })
/** Another empty database on the same server. */
async function newDatabase(name: string, migrated: boolean): Promise<string> {
  const admin = cli(db.url)
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(db.url)
  url.pathname = `/${name}`
  if (migrated) {
    const handle = connectDb(url.toString())
    await runMigrations(handle.db)
    await handle.close()
  }
  return url.toString()
}

await runBench('backup', async () => {
  try {
    const source = cli(db.url)
    const seedStart = performance.now()
    const { messages, copyBytes } = await seedManyMessages(source, MESSAGES, TEXT_BYTES)
    console.log(`seeded ${messages} messages (${(copyBytes / MiB).toFixed(0)} MiB as COPY text) in ${((performance.now() - seedStart) / 1000).toFixed(0)} s`)

    const file = join(dir, 'bench.backup')
    const backup = await peakRssGrowth(() => backupToFile(source, file))
    // the barest correct way: each table COPYed to its own gzip file, and back in foreign-key order
    const tables = await listTables(source)
    const rawFile = (table: TableInfo) => join(dir, `${table.name}.gz`)
    const rawBackup = await peakRssGrowth(async () => {
      for (const table of tables) {
        const gzip = createGzip({ level: 1 })
        const written = pipeline(gzip, createWriteStream(rawFile(table)))
        // read as an async iterator, which hands over what has piled up at once: piping the
        // COPY stream into gzip instead writes every row on its own and was 4x slower here
        for await (const chunk of await source.unsafe(`copy ${qualified(table)} to stdout`).readable() as AsyncIterable<Buffer>) await put(gzip, chunk)
        gzip.end()
        await written
      }
    })
    const rawBytes = tables.reduce((sum, table) => sum + statSync(rawFile(table)).size, 0)

    const target = cli(await newDatabase(`bench_restore_${Date.now()}`, false))
    const restore = await peakRssGrowth(() => restoreFromFile(target, file))
    const rawTarget = cli(await newDatabase(`bench_raw_${Date.now()}`, true))
    const rawRestore = await peakRssGrowth(() => rawTarget.begin(async (tx) => {
      for (const table of tables) {
        await pipeline(createReadStream(rawFile(table)), createGunzip(), await tx.unsafe(`copy ${qualified(table)} from stdin`).writable())
      }
    }))

    const mb = (bytes: number) => bytes / MiB
    const limit = { op: '≤', value: LIMIT_MIB, unit: 'MiB' } as const
    await Promise.all([source.end(), target.end(), rawTarget.end()])
    return {
      title: `backup of ${messages.toLocaleString('en')} messages (${mb(copyBytes).toFixed(0)} MiB of message text), RSS growth and time`,
      rows: [
        { name: 'backup: RSS growth', value: mb(backup.growthBytes), baseline: mb(rawBackup.growthBytes), unit: 'MiB', target: limit },
        { name: 'backup: time', value: backup.seconds, baseline: rawBackup.seconds, unit: 's' },
        { name: 'backup: file', value: mb(backup.result.bytes), baseline: mb(rawBytes), unit: 'MiB' },
        { name: 'restore: RSS growth', value: mb(restore.growthBytes), baseline: mb(rawRestore.growthBytes), unit: 'MiB', target: limit },
        { name: 'restore: time', value: restore.seconds, baseline: rawRestore.seconds, unit: 's' },
      ],
      note: 'Baseline: each table COPYed to its own gzip file and back, no framing, no checks, no snapshot.',
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await db.stop()
  }
})
