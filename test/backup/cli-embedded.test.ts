import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startEmbeddedPostgres } from '../../src/db/embedded.js'
import { buildTestApp } from '../helpers/app.js'
import { cli, dumpRows, schemaTables, seedEveryTable, tempDir } from '../helpers/backup-fixture.js'

// two embedded clusters and two CLI runs (each starts Node and tsx): slow on a loaded machine
t.setTimeout(600_000)

/** A DATA_DIR the embedded cluster's user can enter (it runs as `postgres` under root). */
function dataDir(t: { teardown: (fn: () => unknown) => void }): string {
  const dir = tempDir(t)
  chmodSync(dir, 0o755)
  return join(dir, 'data')
}

t.test('on the embedded default, backup shares the running cluster and restore fills a new data folder', async (t) => {
  const sourceDir = dataDir(t)
  const running = await startEmbeddedPostgres(sourceDir)
  t.teardown(() => running.stop())
  const seeding = await buildTestApp(t, { databaseUrl: running.url })
  await seedEveryTable(seeding)
  // closing writes what the seeding app still held (when its visitors were last seen); a
  // fresh instance runs through the backup, so every row the backup holds is final
  await seeding.close()
  const app = await buildTestApp(t, { databaseUrl: running.url })
  const file = join(tempDir(t), 'embedded.backup')
  const backup = await cli({ DATA_DIR: sourceDir }, 'backup', '--out', file)
  t.equal(backup.code, 0, backup.stderr)
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the server goes on: the CLI left the shared cluster running')
  await app.close()
  // the server delivers notifications while the backup reads: an outbox row may be caught
  // leased (attempt counted, retry time moved on), which restores fine (the lease ends and the
  // row is sent); every other column of every table must be as it was
  const stable = { outbox: 'id, event_id, site_id, channel, webhook_id, session_id, kind, payload, created_at' }
  const expected = await dumpRows(running.url, schemaTables(), stable)

  const targetDir = dataDir(t)
  const restore = await cli({ DATA_DIR: targetDir }, 'restore', '--in', file)
  t.equal(restore.code, 0, restore.stderr)
  const restored = await startEmbeddedPostgres(targetDir)
  t.teardown(() => restored.stop())
  t.same(await dumpRows(restored.url, schemaTables(), stable), expected, 'the new data folder holds everything')
})
