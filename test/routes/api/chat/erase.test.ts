import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, pollRequest, replyRequest, sessionHeaders, startSessionRequest, type Staff } from '../../../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket, widgetUrl } from '../../../helpers/sockets.js'
import { waitFor } from '../../../helpers/wait.js'

const erase = (app: FastifyInstance, staff: Staff, id: string) => app.inject({ method: 'DELETE', url: `/api/chat/sessions/${id}`, headers: bearer(staff) })
const eraseVisitor = (app: FastifyInstance, staff: Staff, body: unknown) =>
  app.inject({ method: 'POST', url: '/api/admin/erasures', headers: bearer(staff), payload: body as object })

async function countRows(app: FastifyInstance, sessionId: string) {
  const [row] = await app.db.execute<Record<string, number>>(sql`select
    (select count(*)::int from chat_sessions where id = ${sessionId}) as sessions,
    (select count(*)::int from chat_messages where session_id = ${sessionId}) as messages,
    (select count(*)::int from outbox where session_id = ${sessionId}) as outbox,
    (select count(*)::int from telegram_messages where session_id = ${sessionId}) as telegram,
    (select count(*)::int from resume_links where session_id = ${sessionId}) as links`)
  return row
}

async function receiver(t: { teardown: (fn: () => unknown) => void }) {
  const bodies: { type: string; data: unknown }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      bodies.push(JSON.parse(body))
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, bodies }
}

t.test('an admin erases a session: everything of it goes, its widget socket closes, dashboards drop it, stats and search recount, a webhook says its id', async (t) => {
  const databaseUrl = await freshDatabase()
  const hook = await receiver(t)
  // both instances deliver webhooks, so both must allow the loopback receiver: had only one
  // allowed it, the other would claim the session.erased row now and then and refuse it
  const env = { WEBHOOK_ALLOW_PRIVATE: 'true' }
  const app = await buildTestApp(t, { databaseUrl, env })
  const other = await buildTestApp(t, { databaseUrl, env })
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent')
  const site = await makeSite(app)
  await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: hook.url, events: ['session.erased'] } })
  const s = await makeSession(app, site, { name: 'Olena Secret', email: 'olena@example.com', firstMessage: 'my card number is 4242' })
  const kept = await makeSession(app, site, { firstMessage: 'keep me' })
  await app.inject(replyRequest(agent, s.id, 'noted'))
  await app.db.execute(sql`insert into telegram_messages (chat_id, message_id, site_id, session_id) values ('-100', 7, ${site.id}, ${s.id})`)
  await app.db.execute(sql`insert into resume_links (token_hash, site_id, session_id, expires_at) values ('h', ${site.id}, ${s.id}, now() + interval '1 day')`)
  await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}/export`, headers: bearer(admin) })
  const before = (await app.inject({ method: 'GET', url: '/api/chat/stats', headers: bearer(admin) })).json().data

  const widget = await openSocket(t, widgetUrl(await listen(other), s))
  await widget.waitForSeq(2)
  const dashboard = await openSocket(t, dashboardUrl(await listen(app), agent))
  await dashboard.waitUntil('the socket to be registered', () => app.hub.dashboardSocketCount === 1)

  t.equal((await erase(app, agent, s.id)).statusCode, 403, 'agents may not erase')
  const res = await erase(app, admin, s.id)
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  const closed = await widget.closed
  t.equal(closed.code, 4004, 'the widget socket on the other instance closes for good')
  await dashboard.waitUntil('session.erased', () => dashboard.ofType('session.erased').length === 1)
  t.same(dashboard.ofType('session.erased')[0], { type: 'session.erased', session: { id: s.id, siteId: site.id } })
  t.same(await countRows(app, s.id), { sessions: 0, messages: 0, outbox: 0, telegram: 0, links: 0 })
  t.equal((await countRows(app, kept.id))?.messages, 1, 'other sessions stay')
  t.equal((await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })).statusCode, 404)
  t.equal((await app.inject(pollRequest(s))).statusCode, 404, 'the visitor\'s poll')
  t.equal((await erase(app, admin, s.id)).statusCode, 404, 'twice')
  const search = (await app.inject({ method: 'GET', url: '/api/chat/sessions?search=4242', headers: bearer(admin) })).json().data
  t.equal(search.total, 0, 'not found by search')
  const after = (await app.inject({ method: 'GET', url: '/api/chat/stats', headers: bearer(admin) })).json().data
  t.equal(after.totalSessions, before.totalSessions - 1, 'stats recount')
  t.equal(after.totalMessages, before.totalMessages - 2)
  await waitFor('the webhook', () => hook.bodies.length === 1)
  t.match(hook.bodies[0], { type: 'session.erased', data: { session: { id: s.id } } })
  t.same(Object.keys((hook.bodies[0]?.data as { session: object }).session), ['id'], 'id only')
  const audit = (await app.inject({ method: 'GET', url: '/api/admin/audit', headers: bearer(admin) })).json().data.entries
  t.match(audit[0], { action: 'session.erased', target: s.id, actor: { name: 'Olena' }, details: { erasedSessions: 1 } })
  t.match(audit.find((e: { action: string }) => e.action === 'session.exported'), { target: s.id, details: {} })
  t.notMatch(JSON.stringify(audit), /Olena Secret|olena@example|4242/, 'the log keeps nothing of the person')
})

t.test('the session.erased webhook goes out at once, not at the next OUTBOX_POLL_MS', async (t) => {
  const hook = await receiver(t)
  // the poll, the safety net, is a minute away: only the erasure's own event can wake the worker
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase(), env: { WEBHOOK_ALLOW_PRIVATE: 'true', OUTBOX_POLL_MS: '60000' } })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/webhooks`, headers: bearer(admin), payload: { url: hook.url, events: ['session.erased'] } })
  const s = await makeSession(app, site, { firstMessage: 'erase me' })
  t.equal((await erase(app, admin, s.id)).statusCode, 204)
  const erasedAt = Date.now()
  await waitFor('the session.erased webhook', () => hook.bodies.length === 1, 5000)
  t.match(hook.bodies[0], { type: 'session.erased', data: { session: { id: s.id } } })
  t.ok(Date.now() - erasedAt < 5000, 'well before the next poll')
})

t.test('erasing a visitor by userSessionId or email takes all their sessions on that site only', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const otherSite = await makeSite(app)
  const agent = await makeStaff(app)
  const a1 = await makeSession(app, site, { userSessionId: 'visitor-aaaa-1', email: 'Ira@Example.com', firstMessage: 'one' })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${a1.id}/close`, headers: bearer(agent) })
  // a new session of the same visitor id needs the closed one's token (resume with proof)
  const again = await app.inject({ ...startSessionRequest(site, { userSessionId: 'visitor-aaaa-1', firstMessage: 'two' }), headers: sessionHeaders(a1) })
  t.equal(again.statusCode, 201, again.body)
  const a2 = { id: again.json().data.sessionId as string }
  const a3 = await makeSession(app, site, { email: 'ira@example.com', firstMessage: 'three' })
  const elsewhere = await makeSession(app, otherSite, { userSessionId: 'visitor-aaaa-1', email: 'ira@example.com', firstMessage: 'other site' })
  const bystander = await makeSession(app, site, { email: 'taras@example.com', firstMessage: 'bystander' })

  const byId = await eraseVisitor(app, admin, { siteId: site.id, userSessionId: 'visitor-aaaa-1' })
  t.equal(byId.statusCode, 200)
  t.same(byId.json().data, { erasedSessions: 2 })
  t.same(await eraseVisitor(app, admin, { siteId: site.id, email: 'IRA@example.com' }).then((r) => r.json().data), { erasedSessions: 1 }, 'email in any case')
  for (const s of [a1, a2, a3]) t.equal((await countRows(app, s.id))?.sessions, 0)
  for (const s of [elsewhere, bystander]) t.equal((await countRows(app, s.id))?.sessions, 1)
  t.same(await eraseVisitor(app, admin, { siteId: site.id, email: 'nobody@example.com' }).then((r) => r.json().data), { erasedSessions: 0 })
  const audit = (await app.inject({ method: 'GET', url: '/api/admin/audit?action=visitor.erased', headers: bearer(admin) })).json().data.entries
  t.match(audit, [{ details: { by: ['email'], erasedSessions: 0 } }, { details: { by: ['email'], erasedSessions: 1 } }, { details: { by: ['userSessionId'], erasedSessions: 2 } }])
  t.notMatch(JSON.stringify(audit), /ira@|visitor-aaaa/i, 'which identifier, never its value')

  for (const [body, status] of [
    [{ siteId: site.id }, 400], [{ siteId: 'x', email: 'a@b.c' }, 400], [{ siteId: site.id, email: 'not an email' }, 400],
    [{ siteId: site.id, userSessionId: '' }, 400], [{ siteId: site.id, email: 'a@b.c', extra: 1 }, 400],
    [{ siteId: '00000000-0000-4000-8000-000000000000', email: 'a@b.c' }, 404],
  ] as const) {
    t.equal((await eraseVisitor(app, admin, body)).statusCode, status, JSON.stringify(body))
  }
  t.equal((await eraseVisitor(app, agent, { siteId: site.id, email: 'a@b.c' })).statusCode, 403, 'admins only')
  t.equal((await app.inject({ method: 'POST', url: '/api/admin/erasures', payload: { siteId: site.id, email: 'a@b.c' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'DELETE', url: '/api/chat/sessions/not-a-uuid', headers: bearer(admin) })).statusCode, 404)
})

t.test('an erasure asked with the id in upper case is logged under the session\'s id', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const s = await makeSession(app, await makeSite(app))
  t.equal((await erase(app, admin, s.id.toUpperCase())).statusCode, 204)
  const audit = (await app.inject({ method: 'GET', url: '/api/admin/audit', headers: bearer(admin) })).json().data.entries
  t.match(audit[0], { action: 'session.erased', target: s.id, details: { erasedSessions: 1 } }, 'found when searching the log for the id')
})
