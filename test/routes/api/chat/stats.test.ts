import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../../../helpers/fixtures.js'

t.test('stats count sessions and messages and give first-response average and median', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const agent = await makeStaff(app)
  const site = await makeSite(app)
  const utcDate = () => new Date().toISOString().slice(0, 10)
  const dayAtStart = utcDate()
  const answeredAfter = [10, 20, 60]
  for (const seconds of answeredAfter) {
    const s = await makeSession(app, site, { firstMessage: 'question' })
    await app.inject(replyRequest(agent, s.id, 'answer'))
    // pin the first response to a known delay after the visitor's first message
    await app.db.execute(sql`update chat_sessions set first_response_at = (select created_at from chat_messages where session_id = ${s.id} and seq = 1) + make_interval(secs => ${seconds}) where id = ${s.id}`)
  }
  const waiting = await makeSession(app, site, { firstMessage: 'hello?' })
  await app.inject(sendRequest(waiting, { text: 'anyone?' }))
  const closed = await makeSession(app, site)
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${closed.id}/close`, headers: bearer(agent) })

  const res = await app.inject({ method: 'GET', url: '/api/chat/stats', headers: bearer(agent) })
  t.equal(res.statusCode, 200)
  const stats = res.json().data
  t.match(stats, {
    totalSessions: 5,
    openSessions: 4,
    closedSessions: 1,
    totalMessages: 8,
    visitorMessages: 5,
    agentMessages: 3,
    unansweredSessions: 1,
    avgFirstResponseSeconds: 30,
    medianFirstResponseSeconds: 20,
  })
  t.equal(stats.sessionsPerDay.length, 30, 'the last 30 days by default')
  // (a run across midnight UTC has its sessions on a day that is no longer today)
  if (utcDate() === dayAtStart) {
    t.equal(stats.sessionsToday, 5)
    t.same(stats.sessionsPerDay.at(-1), { date: dayAtStart, count: 5 })
  } else t.comment('midnight UTC passed during the test: the per-day counts are not checked')
})

t.test('stats honour from and to, with a day for every date in the range', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const agent = await makeStaff(app)
  const site = await makeSite(app)
  for (const day of ['2026-01-01T08:00:00Z', '2026-01-03T23:59:59Z', '2026-01-03T00:00:00Z', '2026-01-05T00:00:00Z']) {
    const s = await makeSession(app, site)
    await app.db.execute(sql`update chat_sessions set created_at = ${day}::timestamptz where id = ${s.id}`)
  }
  const res = await app.inject({ method: 'GET', url: '/api/chat/stats?from=2026-01-01&to=2026-01-05', headers: bearer(agent) })
  t.equal(res.statusCode, 200)
  const stats = res.json().data
  t.equal(stats.totalSessions, 3)
  t.same(stats.sessionsPerDay, [
    { date: '2026-01-01', count: 1 }, { date: '2026-01-02', count: 0 }, { date: '2026-01-03', count: 2 }, { date: '2026-01-04', count: 0 },
  ])
  t.equal(stats.avgFirstResponseSeconds, null, 'no answers, no figure')
  for (const q of ['from=tomorrow', 'from=2026-02-01&to=2026-01-01', 'to=x']) {
    const bad = await app.inject({ method: 'GET', url: `/api/chat/stats?${q}`, headers: bearer(agent) })
    t.equal(bad.statusCode, 400, q)
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/stats' })).statusCode, 401)
})
