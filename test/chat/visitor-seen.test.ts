import t from 'tap'
import { markVisitorsSeen } from '../../src/chat/visitor-seen.js'
import { connectDb } from '../../src/db/client.js'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { makeSite } from '../helpers/fixtures.js'

t.test('every listed session is marked seen, across the statement chunks, and nothing else; the async commit does not outlive the flush', async (t) => {
  const url = await freshDatabase()
  const app = await buildTestApp(t, { databaseUrl: url })
  const site = await makeSite(app)
  // more sessions than one statement takes, all last seen long ago
  const rows = await app.sql<{ id: string }[]>`
    insert into chat_sessions (site_id, user_session_id, visitor_seen_at)
    select ${site.id}::uuid, 'seen-' || g, '2000-01-01' from generate_series(1, 130) g returning id`
  const ids = rows.map((r) => r.id)
  const listed = ids.slice(0, 121)
  // one connection, so the check below reads the setting on the very connection the flush used
  const one = connectDb(url, { poolSize: 1 })
  t.teardown(() => one.close())
  const [before] = await one.sql<{ at: string }[]>`select date_trunc('milliseconds', now())::text as at`
  await markVisitorsSeen(one.db, listed)
  const fresh = await app.sql<{ id: string }[]>`select id from chat_sessions where id = any(${ids}::uuid[]) and visitor_seen_at >= ${before?.at ?? ''}::timestamptz`
  t.same(fresh.map((s) => s.id).sort(), [...listed].sort(), 'exactly the listed sessions')
  const [setting] = await one.sql<{ value: string }[]>`select current_setting('synchronous_commit') as value`
  t.equal(setting?.value, 'on', 'later transactions on that connection commit durably')
})
