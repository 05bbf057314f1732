import { statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { buildTestApp, emptyDatabase, freshDatabase } from '../helpers/app.js'
import { cli, connect, tempDir } from '../helpers/backup-fixture.js'
import { makeSession, makeSite, sendRequest } from '../helpers/fixtures.js'

// each CLI call starts Node and tsx: slow on a loaded machine
t.setTimeout(600_000)

t.test('backup while the server keeps taking messages: the snapshot is consistent, and restore brings it back', async (t) => {
  const sourceUrl = await freshDatabase()
  const app = await buildTestApp(t, { databaseUrl: sourceUrl })
  const site = await makeSite(app)
  const sessions = await Promise.all([1, 2, 3, 4].map(() => makeSession(app, site, { firstMessage: 'hello' })))
  let writing = true
  const statuses: number[] = []
  const writers = sessions.map(async (s) => {
    for (let i = 0; writing; i++) statuses.push((await app.inject(sendRequest(s, { text: `message ${i}` }))).statusCode)
  })
  const dir = tempDir(t)
  const file = join(dir, 'live.backup')
  const backup = await cli({ DATABASE_URL: sourceUrl, BACKUP_KEY: 'a key of sixteen+ chars' }, 'backup', '--out', file)
  writing = false
  await Promise.all(writers)
  t.equal(backup.code, 0, backup.stderr)
  t.match(backup.stdout, /backup written to .*live\.backup: \d+ rows in \d+ tables, \d+ bytes, schema \S+, encrypted/)
  t.equal(statSync(file).mode & 0o777, 0o600)
  t.ok(statuses.length > 0 && statuses.every((s) => s === 201), `the server answered every send during the backup (${statuses.length})`)

  const targetUrl = await emptyDatabase()
  const noKey = await cli({ DATABASE_URL: targetUrl }, 'restore', '--in', file)
  t.equal(noKey.code, 1)
  t.match(noKey.stderr, 'set BACKUP_KEY')
  const restored = await cli({ DATABASE_URL: targetUrl, BACKUP_KEY: 'a key of sixteen+ chars' }, 'restore', '--in', file)
  t.equal(restored.code, 0, restored.stderr)
  t.match(restored.stdout, /restored \d+ rows in \d+ tables from the backup of \S+ \(schema \S+, now \S+\)/)
  const target = connect(t, targetUrl)
  const gaps = await target<{ id: string }[]>`
    select s.id from chat_sessions s left join chat_messages m on m.session_id = s.id
    group by s.id, s.last_seq having count(m.id) <> s.last_seq or coalesce(max(m.seq), 0) <> s.last_seq`
  t.same(gaps, [], 'one snapshot: every session has exactly the messages its last_seq counts')
  const [counts] = await target<{ n: number }[]>`select count(*)::int as n from chat_messages`
  t.ok((counts?.n ?? 0) >= sessions.length, `messages restored (${counts?.n})`)

  const again = await cli({ DATABASE_URL: targetUrl, BACKUP_KEY: 'a key of sixteen+ chars' }, 'restore', '--in', file)
  t.equal(again.code, 1, 'a database holding data is refused')
  t.match(again.stderr, 'already holds data')
  const forced = await cli({ DATABASE_URL: targetUrl, BACKUP_KEY: 'a key of sixteen+ chars' }, 'restore', '--in', file, '--force')
  t.equal(forced.code, 0, forced.stderr)
  const missing = await cli({ DATABASE_URL: targetUrl }, 'backup')
  t.equal(missing.code, 1)
  t.match(missing.stderr, '--out is required')
})
