import t from 'tap'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { makeSession, makeSite, makeStaff, sendRequest } from '../helpers/fixtures.js'

/** The plan Postgres picks for a statement, as text. */
async function plan(sql: { unsafe: (q: string, params?: never[]) => Promise<unknown[]> }, query: string, params: unknown[] = []): Promise<string> {
  const rows = await sql.unsafe(`explain ${query}`, params as never[]) as { 'QUERY PLAN': string }[]
  return rows.map((r) => r['QUERY PLAN']).join('\n')
}

t.test('searching message text and contacts uses the trigram indexes, not a scan of every message', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const site = await makeSite(app)
  // 20 000 sessions with 3 messages each: enough rows for the planner to prefer the indexes
  await app.sql`
    with s as (
      insert into chat_sessions (site_id, user_session_id, name, phone, email, last_seq)
      select ${site.id}::uuid, 'bulk-' || g, 'Visitor ' || g, '+380 ' || g, 'v' || g || '@example.com', 3 from generate_series(1, 20000) g
      returning id, site_id
    )
    insert into chat_messages (site_id, session_id, seq, sender, text, created_at)
    select s.site_id, s.id, n, 'visitor', 'message ' || n || ' about ' || md5(s.id::text || n), now() - (n || ' minutes')::interval
    from s cross join generate_series(1, 3) n`
  await app.sql`analyze chat_messages`
  await app.sql`analyze chat_sessions`
  const messages = await plan(app.sql, `select m.session_id from chat_messages m where m.text ilike $1`, ['%blue sofa%'])
  t.match(messages, /chat_messages_text_trgm_idx/, messages)
  t.notMatch(messages, /Seq Scan on chat_messages/)
  const contacts = await plan(app.sql, `select id from chat_sessions where (coalesce("name", '') || ' ' || coalesce("phone", '') || ' ' || coalesce("email", '')) ilike $1`, ['%Petrenko%'])
  t.match(contacts, /chat_sessions_contact_trgm_idx/, contacts)
  t.notMatch(contacts, /Seq Scan on chat_sessions/)
  const range = await plan(app.sql, `select count(*) from chat_messages where created_at >= $1::timestamptz and created_at < $2::timestamptz`, [new Date(Date.now() - 3600_000).toISOString(), new Date(Date.now() - 3000_000).toISOString()])
  t.match(range, /chat_messages_created_idx/, range)

  // and through the API, the answers are right
  const agent = await makeStaff(app)
  const s = await makeSession(app, site, { name: 'Olena Petrenko', firstMessage: 'I need a blue sofa' })
  await app.inject(sendRequest(s, { text: 'ok' }))
  const search = async (q: string) => (await app.inject({ method: 'GET', url: `/api/chat/sessions?search=${encodeURIComponent(q)}`, headers: { authorization: `Bearer ${agent.token}` } })).json().data
  t.same((await search('blue sofa')).sessions.map((x: { id: string }) => x.id), [s.id], 'message text')
  t.same((await search('petrenko')).sessions.map((x: { id: string }) => x.id), [s.id], 'contact name')
  t.equal((await search('ok')).total, 0, 'two characters match contact details only, not message text')
  t.equal((await search('Ol')).total, 1, 'which they do match')
})
