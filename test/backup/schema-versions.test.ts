import { join } from 'node:path'
import t from 'tap'
import { backupToFile } from '../../src/backup/backup.js'
import { restoreFromFile } from '../../src/backup/restore.js'
import { appliedSchemaVersion, applyMigrations, readMigrations, type Migration } from '../../src/db/migrate.js'
import { buildTestApp, emptyDatabase } from '../helpers/app.js'
import { AWKWARD_TEXT, connect, dumpRows, schemaTables, seededBackup, tempDir } from '../helpers/backup-fixture.js'
import { bearer, makeStaff, poll, type WireMessage } from '../helpers/fixtures.js'

const released = readMigrations()
const latest = released[released.length - 1]
const after = (m: Migration | undefined, tag: string, statements: string[]): Migration => ({ tag, when: (m?.when ?? 0) + 1, hash: tag, statements })

/** A migration of a release to come: a column added and filled from existing rows (expand, then migrate). */
const nextRelease = after(latest, '9999_message_words', [
  'alter table chat_messages add column words integer',
  `update chat_messages set words = coalesce(array_length(regexp_split_to_array(trim(text), '\\s+'), 1), 0)`,
])

t.test('a backup from an older schema version is restored at its version, then migrated to the current one', async (t) => {
  let history: WireMessage[] = []
  const { file, seeded, backup: taken } = await seededBackup(t, { beforeClose: async (app, seeded) => void (history = await poll(app, seeded.open)) })
  t.equal(taken.schema.tag, latest?.tag, 'the backup records the last migration applied')

  const targetUrl = await emptyDatabase()
  const target = connect(t, targetUrl)
  const restored = await restoreFromFile(target, file, { migrations: [...released, nextRelease] })
  t.equal(restored.from.tag, latest?.tag)
  t.equal(restored.to.tag, nextRelease.tag)
  t.match(await appliedSchemaVersion(target, [...released, nextRelease]), { tag: nextRelease.tag }, 'drizzle will carry on from the newest migration')
  const words = await target<{ text: string; words: number }[]>`select text, words from chat_messages where session_id = ${seeded.open.id} order by seq`
  t.same(words.map((w) => w.words), history.map((m) => m.text.trim().split(/\s+/).length), "the newer migration's backfill ran over the restored rows")
})

t.test('a database at an earlier migration of this release is backed up and restored to the current schema', async (t) => {
  t.ok(released.length >= 2, 'this release has an earlier migration to start from')
  const earlier = released.slice(0, -1)
  const sourceUrl = await emptyDatabase()
  const source = connect(t, sourceUrl)
  await source.begin((tx) => applyMigrations(tx, earlier))
  const site = (await source<{ id: string }[]>`insert into sites (name, api_key, api_secret_hash) values ('Old', 'pk_old', 'hash') returning id`)[0]?.id
  const session = (await source<{ id: string }[]>`insert into chat_sessions (site_id, user_session_id, last_seq) values (${site ?? ''}, 'visitor-old', 1) returning id`)[0]?.id
  await source`insert into chat_messages (session_id, seq, sender, text, created_at) values (${session ?? ''}, 1, 'visitor', ${AWKWARD_TEXT}, now())`
  const file = join(tempDir(t), 'earlier.backup')
  t.equal((await backupToFile(source, file)).schema.tag, earlier[earlier.length - 1]?.tag)
  const targetUrl = await emptyDatabase()
  const restored = await restoreFromFile(connect(t, targetUrl), file)
  t.equal(restored.to.tag, latest?.tag)
  const app = await buildTestApp(t, { databaseUrl: targetUrl })
  const res = await app.inject({ method: 'GET', url: `/api/public/chat/sessions/${session}/messages`, headers: { 'x-api-key': 'pk_old' } })
  t.not(res.statusCode, 500, 'the current server reads the migrated rows')
  const admin = await makeStaff(app, 'admin')
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${session}`, headers: bearer(admin) })
  t.equal(detail.statusCode, 200)
  t.same(detail.json().data.messages.map((m: { text: string }) => m.text), [AWKWARD_TEXT], 'the message of the earlier schema reads back through the API')
  t.same((await dumpRows(targetUrl, ['chat_messages'])).chat_messages?.length, 1)
})

t.test('a backup from a newer release than this one is refused, naming its version', async (t) => {
  const sourceUrl = await emptyDatabase()
  const source = connect(t, sourceUrl)
  await source.begin((tx) => applyMigrations(tx, [...released, nextRelease]))
  const file = join(tempDir(t), 'newer.backup')
  await backupToFile(source, file)
  const targetUrl = await emptyDatabase()
  await t.rejects(restoreFromFile(connect(t, targetUrl), file), new RegExp(`schema version ${nextRelease.when}, which this release does not have: restore it with the release that made it`))
  t.same(await appliedSchemaVersion(connect(t, targetUrl)), undefined, 'nothing was changed')
})

t.test('bytea, jsonb, arrays, timestamps, numbers, enums, generated columns and self-references round-trip exactly', async (t) => {
  const probe = after(latest, '9999_backup_probe', [
    `create type mood as enum ('calm', 'busy', 'it''s "odd"')`,
    `create table backup_probe (
      id bigserial primary key, parent bigint references backup_probe (id), raw bytea, doc jsonb, plain_json json,
      tags text[], grid integer[][], at timestamptz(3), at_micro timestamptz, local_at timestamp, day date, span interval,
      ratio double precision, real_ratio real, amount numeric(40, 12), flag boolean, mood mood, uid uuid, note text,
      shout text generated always as (upper(note)) stored)`,
  ])
  const migrations = [...released, probe]
  const sourceUrl = await emptyDatabase()
  const source = connect(t, sourceUrl)
  await source.begin((tx) => applyMigrations(tx, migrations))
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  await source`insert into backup_probe (raw, doc, plain_json, tags, grid, at, at_micro, local_at, day, span, ratio, real_ratio, amount, flag, mood, uid, note) values
    (${everyByte}, ${`{"text": ${JSON.stringify(AWKWARD_TEXT)}, "big": 123456789012345678901234567890, "tiny": 1e-300, "list": [null, true, {"": ""}]}`}::jsonb,
     '{"kept": "as written",   "dup": 1, "dup": 2}', ${['', 'NULL', 'a,b', '{x}', 'q"uote', 'back\\slash', 'new\nline', AWKWARD_TEXT]}::text[],
     '{{1,2},{3,NULL}}', '2026-11-30 12:34:56.789+00', '1999-12-31 23:59:59.999999+05:30', '0001-01-01 00:00:00', '9999-12-31',
     '1 year 2 mons -3 days 04:05:06.789', 0.1, 3.4028235e38, '-12345678901234567890.123456789012', false, 'it''s "odd"', gen_random_uuid(), ${AWKWARD_TEXT}),
    (null, 'null'::jsonb, null, '{}', null, 'infinity', '-infinity', 'infinity', '-infinity', '0', 'NaN', '-0', 'NaN', true, 'calm', null, '')`
  await source`insert into backup_probe (parent, ratio, raw) values (1, '-Infinity', ${Buffer.alloc(200_000, 0xab)})`
  await source`update backup_probe set parent = 3 where id = 1`
  const file = join(tempDir(t), 'types.backup')
  await backupToFile(source, file)
  const targetUrl = await emptyDatabase()
  const target = connect(t, targetUrl)
  await restoreFromFile(target, file, { migrations })
  const tables = [...schemaTables(), 'backup_probe']
  t.same(await dumpRows(targetUrl, tables), await dumpRows(sourceUrl, tables))
  const [raw] = await target<{ raw: Buffer }[]>`select raw from backup_probe where id = 1`
  t.ok(raw?.raw.equals(everyByte), 'bytes come back as bytes')
  const [next] = await target<{ id: string }[]>`insert into backup_probe (note) values ('new') returning id::text`
  t.equal(next?.id, '4', 'the bigserial continues after the restored ids')
})
