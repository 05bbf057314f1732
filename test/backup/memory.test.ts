import { join } from 'node:path'
import t from 'tap'
import { backupToFile } from '../../src/backup/backup.js'
import { restoreFromFile } from '../../src/backup/restore.js'
import { emptyDatabase, freshDatabase } from '../helpers/app.js'
import { connect, tempDir } from '../helpers/backup-fixture.js'
import { MiB, peakRssGrowth, seedManyMessages } from '../helpers/many-messages.js'

// BACKUP_MEMORY_MESSAGES=1000000 for the full check (about 10 minutes here); npm test runs a
// smaller one whose text alone is larger than the bound, so buffering a table would fail it.
const MESSAGES = Number(process.env.BACKUP_MEMORY_MESSAGES ?? 100_000)
const TEXT_BYTES = Number(process.env.BACKUP_MEMORY_TEXT_BYTES ?? 1000)
const MAX_GROWTH_BYTES = 100 * MiB
// a million messages take minutes; the default run about one
t.setTimeout(1_800_000)

t.test(`backup and restore of ${MESSAGES} messages stay under ${MAX_GROWTH_BYTES / MiB} MiB of RSS growth`, { timeout: 1_800_000 }, async (t) => {
  const sourceUrl = await freshDatabase()
  const source = connect(t, sourceUrl)
  const { messages, copyBytes } = await seedManyMessages(source, MESSAGES, TEXT_BYTES)
  t.ok(copyBytes > MAX_GROWTH_BYTES, `the messages' text (${(copyBytes / MiB).toFixed(0)} MiB) is larger than the bound`)
  const file = join(tempDir(t), 'big.backup')

  const backup = await peakRssGrowth(() => backupToFile(source, file))
  t.equal(backup.result.tables.find((x) => x.name === 'chat_messages')?.rows, messages)
  t.ok(backup.growthBytes < MAX_GROWTH_BYTES, `backup: RSS grew ${(backup.growthBytes / MiB).toFixed(1)} MiB in ${backup.seconds.toFixed(1)} s (file ${(backup.result.bytes / MiB).toFixed(1)} MiB)`)

  const target = connect(t, await emptyDatabase())
  const restore = await peakRssGrowth(() => restoreFromFile(target, file))
  t.equal(restore.result.tables.find((x) => x.name === 'chat_messages')?.rows, messages)
  t.ok(restore.growthBytes < MAX_GROWTH_BYTES, `restore: RSS grew ${(restore.growthBytes / MiB).toFixed(1)} MiB in ${restore.seconds.toFixed(1)} s`)
})
