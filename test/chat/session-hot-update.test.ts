import t from 'tap'
import { sendMessage } from '../../src/chat/messages.js'
import { recentChanges } from '../../src/chat/recent-changes.js'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { makeSite } from '../helpers/fixtures.js'
import { waitFor } from '../helpers/wait.js'

const noEvents = { publish: () => {} }

/**
 * A send updates its session's row; the update must be HOT (a new version on the same page,
 * no new entry in any of chat_sessions' indexes), so no index may cover a column a send sets
 * and pages need room for the new version (fillfactor, migration 0011). Sessions as wide as a
 * real visitor's, enough of them to fill pages: a packed page would take no new version.
 */
t.test("every send's update of its session is a HOT update", async (t) => {
  // a database of its own: the table's update counts are this test's alone
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const site = await makeSite(app)
  const sessions = await app.sql<{ id: string }[]>`
    insert into chat_sessions (site_id, user_session_id, name, email, phone, page_url, locale, user_agent)
    select ${site.id}::uuid, 'hot-' || g || '-' || md5(random()::text), 'Visitor ' || g, 'visitor' || g || '@example.com', '+380 44 ' || g,
      'https://shop.example/catalogue/sofas/' || md5(g::text), 'uk-UA', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'
    from generate_series(1, 400) g
    returning id`
  const stats = async () => (await app.sql<{ updated: number; hot: number }[]>`
    select n_tup_upd::int as updated, n_tup_hot_upd::int as hot from pg_stat_user_tables where relname = 'chat_sessions'`)[0]
  const before = await stats()
  // one send to every eighth session, each committing on its own as the route's do: a page's few
  // new versions fit in the room the fillfactor leaves, whether or not the old ones could be pruned yet
  // (a concurrent snapshot, such as a background job's, keeps them)
  const sent = sessions.filter((_, i) => i % 8 === 0)
  for (const [i, s] of sent.entries()) {
    await sendMessage(app.db, noEvents, { sessionId: s.id, sender: i % 2 ? 'agent' : 'visitor', senderName: null, text: `message ${i}` })
  }
  // the backends report their counts within a second or so of going idle
  const counts = await waitFor('the sends\' updates counted', async () => {
    const now = await stats()
    return now && before && now.updated - before.updated >= sent.length ? { updated: now.updated - before.updated, hot: now.hot - before.hot } : undefined
  })
  t.same(counts, { updated: sent.length, hot: sent.length }, 'one update per send, every one HOT')

  // the sweep still finds them: activity through the messages' creation-time index
  const recent = new Set((await recentChanges(app.db, 60_000)).sessions.map((s) => s.id))
  t.ok(sent.every((s) => recent.has(s.id)), 'every session with a new message is recently active')
  const [old] = await app.sql<{ id: string }[]>`
    insert into chat_sessions (site_id, user_session_id, created_at) values (${site.id}, ${'old-' + Date.now()}, now() - interval '1 hour') returning id`
  t.notOk((await recentChanges(app.db, 60_000)).sessions.some((s) => s.id === old?.id), 'a session started an hour ago without messages is not')
  // its close is recent, through the recent-closes index (migration 0014): found for that alone
  await app.sql`update chat_sessions set status = 'closed', closed_at = now() where id = ${old?.id ?? ''}`
  const closed = (await recentChanges(app.db, 60_000)).sessions.find((s) => s.id === old?.id)
  t.match(closed, { status: 'closed', active: false, closedAt: Date }, 'closing it makes it recent, for its close only')
})
