import t from 'tap'
import postgres from 'postgres'
import { applyMigrations, readMigrations } from '../../src/db/migrate.js'
import { DISTRIBUTION_COLUMN, TABLE_DISTRIBUTION } from '../../src/db/distribution.js'
import { emptyDatabase, freshDatabase } from '../helpers/app.js'

type Queryable = postgres.Sql | postgres.TransactionSql

/**
 * Where the schema breaks Citus's rule (docs/scaling.md, "the rule"), read from the catalog:
 * unclassified tables, and for each table distributed by site_id a missing NOT NULL site_id,
 * a primary or unique key without it, a foreign key to another distributed table that does
 * not pair site_id with site_id; and any foreign key from a reference table to a distributed one.
 */
async function citusKeyViolations(sql: Queryable): Promise<string[]> {
  const tables = (await sql<{ name: string }[]>`
    select c.relname::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
      and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
    order by 1`).map((r) => r.name)
  const kind = (table: string) => TABLE_DISTRIBUTION[table]
  const out: string[] = []
  for (const table of tables) if (!kind(table)) out.push(`${table}: not classified in src/db/distribution.ts`)
  for (const table of Object.keys(TABLE_DISTRIBUTION)) if (!tables.includes(table)) out.push(`${table}: classified but not in the schema`)

  const distributed = tables.filter((table) => kind(table) === 'distributed')
  const columns = await sql<{ table: string; notNull: boolean }[]>`
    select c.relname::text as table, a.attnotnull as "notNull" from pg_attribute a
    join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and a.attname = ${DISTRIBUTION_COLUMN} and not a.attisdropped and c.relname = any(${distributed})`
  for (const table of distributed) {
    const column = columns.find((c) => c.table === table)
    if (!column?.notNull) out.push(`${table}: no NOT NULL ${DISTRIBUTION_COLUMN}`)
  }

  // primary keys, unique constraints and unique indexes alike; only the key columns count (not INCLUDE)
  const keys = await sql<{ table: string; index: string; primary: boolean; keyColumns: string[] }[]>`
    select c.relname::text as table, i.relname::text as index, x.indisprimary as primary,
      array(select coalesce(a.attname::text, 'expression') from unnest((x.indkey::int2[])[0:x.indnkeyatts - 1]) k(attnum)
            left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum) as "keyColumns"
    from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and x.indisunique and c.relname = any(${distributed})
    order by 1, 2`
  for (const key of keys) {
    if (!key.keyColumns.includes(DISTRIBUTION_COLUMN)) {
      out.push(`${key.table}: ${key.primary ? 'primary key' : 'unique index'} ${key.index} (${key.keyColumns.join(', ')}) omits ${DISTRIBUTION_COLUMN}`)
    }
  }

  const foreignKeys = await sql<{ name: string; child: string; parent: string; childColumns: string[]; parentColumns: string[] }[]>`
    select con.conname::text as name, c.relname::text as child, p.relname::text as parent,
      array(select a.attname::text from unnest(con.conkey) with ordinality k(attnum, i)
            join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum order by k.i) as "childColumns",
      array(select a.attname::text from unnest(con.confkey) with ordinality k(attnum, i)
            join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum order by k.i) as "parentColumns"
    from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_class p on p.oid = con.confrelid
    join pg_namespace n on n.oid = c.relnamespace
    where con.contype = 'f' and n.nspname = 'public'
    order by 1`
  for (const fk of foreignKeys) {
    if (kind(fk.parent) !== 'distributed') continue
    if (kind(fk.child) === 'reference') out.push(`${fk.child}: reference table with foreign key ${fk.name} to distributed ${fk.parent}`)
    if (kind(fk.child) !== 'distributed') continue
    const paired = fk.childColumns.some((column, i) => column === DISTRIBUTION_COLUMN && fk.parentColumns[i] === DISTRIBUTION_COLUMN)
    if (!paired) out.push(`${fk.child}: foreign key ${fk.name} (${fk.childColumns.join(', ')}) to ${fk.parent} (${fk.parentColumns.join(', ')}) does not pair ${DISTRIBUTION_COLUMN} with ${DISTRIBUTION_COLUMN}`)
  }
  return out
}

const connect = (t: { teardown: (fn: () => unknown) => void }, url: string) => {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  return sql
}

const migrations = readMigrations()
const siteKeysAt = migrations.findIndex((m) => m.tag.endsWith('_citus_site_keys'))

t.test('the migrated schema keeps the Citus key rule for every table', async (t) => {
  const sql = connect(t, await freshDatabase())
  t.same(await citusKeyViolations(sql), [])
})

t.test('the check fails on each kind of break: an unclassified table, a key or foreign key without site_id, a reference table pointing at a distributed one', async (t) => {
  // a database of its own, so the breaks stay here
  const sql = connect(t, await freshDatabase())
  await sql`create table citus_probe (id int primary key)`
  await sql`alter table chat_notes drop constraint chat_notes_pkey, alter column site_id drop not null`
  await sql`create unique index chat_messages_probe_uq on chat_messages (id)`
  await sql`alter table outbox add constraint outbox_probe_uq unique (event_id)`
  await sql`alter table resume_links add column message_id uuid references chat_messages (id)`
  await sql`alter table telegram_messages add column attachment_id uuid`
  await sql`alter table telegram_messages add constraint telegram_messages_probe_fk foreign key (attachment_id, session_id) references chat_attachments (id, site_id)`
  await sql`alter table app_settings add column session_id uuid, add column site_id uuid`
  await sql`alter table app_settings add constraint app_settings_probe_fk foreign key (session_id, site_id) references chat_sessions (id, site_id)`
  const found = await citusKeyViolations(sql)
  t.same(found.sort(), [
    'app_settings: reference table with foreign key app_settings_probe_fk to distributed chat_sessions',
    'chat_messages: unique index chat_messages_probe_uq (id) omits site_id',
    'chat_notes: no NOT NULL site_id',
    'citus_probe: not classified in src/db/distribution.ts',
    'outbox: unique index outbox_probe_uq (event_id) omits site_id',
    'resume_links: foreign key resume_links_message_id_fkey (message_id) to chat_messages (id) does not pair site_id with site_id',
    'telegram_messages: foreign key telegram_messages_probe_fk (attachment_id, session_id) to chat_attachments (id, site_id) does not pair site_id with site_id',
  ].sort())
})

t.test('before the site-keys migration the schema broke the rule; the migration fixes it on a database with rows, filling site_id from each row\'s session', async (t) => {
  t.ok(siteKeysAt > 0, 'the site-keys migration is in drizzle/')
  const sql = connect(t, await emptyDatabase())
  await sql.begin((tx) => applyMigrations(tx, migrations.slice(0, siteKeysAt)))
  const before = await citusKeyViolations(sql)
  for (const expected of [
    'chat_sessions: primary key chat_sessions_pkey (id) omits site_id',
    'chat_messages: no NOT NULL site_id',
    'chat_messages: unique index chat_messages_client_id_uq (session_id, client_message_id) omits site_id',
    'outbox: primary key outbox_pkey (id) omits site_id',
    'telegram_messages: no NOT NULL site_id',
    'chat_attachment_chunks: foreign key chat_attachment_chunks_attachment_id_chat_attachments_id_fk (attachment_id) to chat_attachments (id) does not pair site_id with site_id',
  ]) t.ok(before.includes(expected), `before: ${expected}`)

  // rows in every per-site table, as the previous release wrote them, in two sites
  const sites = await sql<{ id: string }[]>`insert into sites (name, api_key, api_secret_hash) values ('A', 'pk_a', 'h'), ('B', 'pk_b', 'h') returning id`
  const sessionIds: string[] = []
  for (const [i, site] of sites.entries()) {
    const [s] = await sql<{ id: string }[]>`insert into chat_sessions (site_id, user_session_id, last_seq) values (${site.id}, ${`visitor-${i}`}, 1) returning id`
    if (!s) throw new Error('no session')
    sessionIds.push(s.id)
    const [m] = await sql<{ id: string }[]>`insert into chat_messages (session_id, seq, sender, text, client_message_id, created_at) values (${s.id}, 1, 'visitor', 'hi', 'c-1', now()) returning id`
    await sql`insert into chat_notes (session_id, author_name, text) values (${s.id}, 'Olena', 'a note')`
    const [a] = await sql<{ id: string }[]>`insert into chat_attachments (session_id, message_id, uploader, name, content_type, size, storage, complete)
      values (${s.id}, ${m?.id ?? ''}, 'visitor', 'a.png', 'image/png', 3, 'postgres', true) returning id`
    await sql`insert into chat_attachment_chunks (attachment_id, n, data) values (${a?.id ?? ''}, 0, '\\x010203'::bytea)`
    await sql`insert into telegram_messages (chat_id, message_id, session_id) values ('-100', ${10 + i}, ${s.id})`
    await sql`insert into resume_links (token_hash, session_id, expires_at) values (${`hash-${i}`}, ${s.id}, now() + interval '1 day')`
    await sql`insert into outbox (site_id, channel, session_id, kind, payload) values (${site.id}, 'telegram', ${s.id}, 'message.created', '{}')`
  }

  // that migration alone: a later one (0010) drops outbox's key to the session, whose cascade the erasure below relies on
  await sql.begin((tx) => applyMigrations(tx, migrations.slice(siteKeysAt, siteKeysAt + 1)))
  // the tables of later migrations are not there yet (the first test checks the whole list)
  const after = (await citusKeyViolations(sql)).filter((v) => !v.endsWith(': classified but not in the schema'))
  t.same(after, [], 'after: the rule holds')
  for (const table of ['chat_messages', 'chat_notes', 'chat_attachments', 'telegram_messages', 'resume_links', 'outbox']) {
    const rows = await sql.unsafe<{ site: string; session: string }[]>(
      `select t.site_id::text as site, s.site_id::text as session from ${table} t join chat_sessions s on s.id = t.session_id order by 1`)
    t.equal(rows.length, 2, `${table}: both rows kept`)
    t.ok(rows.every((r) => r.site === r.session), `${table}: each row took its session's site`)
  }
  const chunks = await sql<{ site: string; file: string }[]>`
    select c.site_id::text as site, a.site_id::text as file from chat_attachment_chunks c join chat_attachments a on a.id = c.attachment_id`
  t.equal(chunks.length, 2)
  t.ok(chunks.every((c) => c.site === c.file), "chat_attachment_chunks: each chunk took its file's site")

  // the previous release, still running during a rolling upgrade, inserts without site_id: the triggers fill it
  const [late] = await sql<{ site_id: string }[]>`insert into chat_messages (session_id, seq, sender, text, created_at) values (${sessionIds[1] ?? ''}, 2, 'agent', 'late', now()) returning site_id`
  t.equal(late?.site_id, sites[1]?.id, "a row written without site_id takes its session's")
  // the duplicate clientMessageId is still reported under the name both releases recognise
  await t.rejects(sql`insert into chat_messages (session_id, seq, sender, text, client_message_id, created_at) values (${sessionIds[0] ?? ''}, 3, 'visitor', 'again', 'c-1', now())`,
    { code: '23505', constraint_name: 'chat_messages_client_id_uq' })
  // erasing a session still takes everything of it, through the composite foreign keys
  await sql`delete from chat_sessions where id = ${sessionIds[0] ?? ''}`
  for (const table of ['chat_messages', 'chat_notes', 'chat_attachments', 'chat_attachment_chunks', 'telegram_messages', 'resume_links', 'outbox']) {
    const [left] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table} where site_id = $1`, [sites[0]?.id ?? ''])
    t.equal(left?.n, 0, `${table}: the erased session's rows are gone`)
  }
})
