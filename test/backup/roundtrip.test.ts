import { statSync } from 'node:fs'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import t from 'tap'
import postgres from 'postgres'
import { writeBackup } from '../../src/backup/backup.js'
import { restoreFromFile } from '../../src/backup/restore.js'
import { buildTestApp, emptyDatabase, freshDatabase } from '../helpers/app.js'
import { connect, dumpRows, schemaTables, seededBackup, seedEveryTable } from '../helpers/backup-fixture.js'
import { bearer, poll, sendRequest, type WireMessage } from '../helpers/fixtures.js'

const sequences = async (sql: postgres.Sql) =>
  (await sql<{ name: string; last: string | null }[]>`select sequencename::text as name, last_value::text as last from pg_sequences where schemaname = 'public' order by 1`)

// one seeded source and its backup for the whole file: no test writes to either
let before: WireMessage[] = []
/** The history with its file links' expiry left out: it moves to the next window when the test runs across a window's end. */
const withoutLinkExpiry = (messages: WireMessage[]) => JSON.parse(JSON.stringify(messages).replace(/\?expires=\d+&sig=[\w-]+/g, '?expires=…')) as unknown
const shared = seededBackup(t, { beforeClose: async (app, seeded) => void (before = await poll(app, seeded.open)) })

t.test('a backup holds every table of the schema and a restore brings back every row exactly', async (t) => {
  const { sourceUrl, file, seeded, backup: taken } = await shared
  const source = connect(t, sourceUrl)
  t.equal(statSync(file).mode & 0o777, 0o600, 'the file holds secrets: only its owner may read it')
  const tables = schemaTables()
  const inBackup = taken.tables.map((x) => x.name)
  for (const table of tables) t.ok(inBackup.includes(table), `${table} is in the backup`)
  for (const { name, rows } of taken.tables) {
    if (tables.includes(name)) t.ok(rows > 0, `${name} has rows in the fixture (add some in seedEveryTable, test/helpers/backup-fixture.ts, so its round trip is checked)`)
  }

  const targetUrl = await emptyDatabase()
  const target = connect(t, targetUrl)
  const restored = await restoreFromFile(target, file)
  t.equal(restored.rows, taken.rows)
  t.same(await dumpRows(targetUrl, tables), await dumpRows(sourceUrl, tables), 'every row of every table is as it was')
  t.same(await sequences(target), await sequences(source), 'sequences continue where they were')

  const maxOutbox = (await target<{ n: number }[]>`select max(id)::int as n from outbox`)[0]?.n ?? 0
  const restoredApp = await buildTestApp(t, { databaseUrl: targetUrl })
  const login = await restoredApp.inject({ method: 'POST', url: '/api/auth/login', payload: { email: seeded.admin.email, password: seeded.admin.password } })
  t.equal(login.statusCode, 200, "the admin's password still works")
  t.equal((await restoredApp.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(seeded.admin) })).statusCode, 200, 'so does a token issued before the backup')
  t.same(withoutLinkExpiry(await poll(restoredApp, seeded.open)), withoutLinkExpiry(before), "the visitor's session token still opens the same history")
  const link = new URL(/"url":"(http[^"]+)"/.exec(JSON.stringify(before))?.[1] ?? 'http://localhost/no-file-link-in-the-history')
  const download = await restoredApp.inject({ method: 'GET', url: link.pathname + link.search })
  t.equal(download.statusCode, 200, 'a file link made before the backup still downloads: the restored secret signs the same')
  const next = await restoredApp.inject(sendRequest(seeded.open, { text: 'after the restore' }))
  t.equal(next.statusCode, 201)
  t.equal(next.json().data.message.seq, before.length + 1, 'new messages continue the seq')
  const secretWorks = await restoredApp.inject({ method: 'GET', url: `/api/public/chat/sessions/${seeded.closed.id}/messages`, headers: { 'x-api-key': seeded.site.apiKey, 'x-api-secret': seeded.site.apiSecret } })
  t.equal(secretWorks.statusCode, 200, "the site's key and secret still work")
  t.equal(secretWorks.json().data.status, 'closed', 'a closed chat stays closed')
  const newest = (await target<{ n: number }[]>`select max(id)::int as n from outbox`)[0]?.n ?? 0
  t.ok(newest > maxOutbox, 'new outbox rows take ids after the restored ones')
})

t.test('restoring over data is refused unless forced, and a forced restore replaces everything', async (t) => {
  const { sourceUrl, file } = await shared
  const busyUrl = await freshDatabase()
  const busyApp = await buildTestApp(t, { databaseUrl: busyUrl })
  await seedEveryTable(busyApp)
  const busy = connect(t, busyUrl)
  await t.rejects(restoreFromFile(busy, file, { force: true }), /servers are connected to this database: stop them/, 'not under a running server')
  await busyApp.close()
  const beforeRefusal = await dumpRows(busyUrl, schemaTables())
  await t.rejects(restoreFromFile(busy, file), /already holds data.*--force/)
  t.same(await dumpRows(busyUrl, schemaTables()), beforeRefusal, 'a refused restore changes nothing')
  await restoreFromFile(busy, file, { force: true })
  t.same(await dumpRows(busyUrl, schemaTables()), await dumpRows(sourceUrl, schemaTables()), 'forced: exactly the backup, nothing of before')
})

t.test('a migrated database with no rows counts as empty', async (t) => {
  const { sourceUrl, file } = await shared
  const targetUrl = await freshDatabase()
  await restoreFromFile(connect(t, targetUrl), file)
  t.same(await dumpRows(targetUrl, schemaTables()), await dumpRows(sourceUrl, schemaTables()))
})

t.test('an output that fails mid-way (a full disk) fails the backup at once and ends its transaction, instead of waiting for ever', { timeout: 20_000 }, async (t) => {
  const { sourceUrl } = await shared
  const source = connect(t, sourceUrl)
  // what a file stream on a full disk does: its first write fails a moment later
  const fullDisk = new Writable({
    write: (_chunk, _encoding, done) => void setImmediate(() => done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))),
  })
  const gzip = createGzip({ level: 1 })
  const written = pipeline(gzip, fullDisk)
  written.catch(() => {})
  await t.rejects(writeBackup(source, gzip, new Date()), /no space left on device/)
  await t.rejects(written, /no space left on device/)
  const [open] = await source<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`
  t.equal(open?.n, 0, 'no snapshot transaction left open')
})
