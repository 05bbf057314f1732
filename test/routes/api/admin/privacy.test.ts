import t from 'tap'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, type Staff } from '../../../helpers/fixtures.js'

const get = (app: FastifyInstance, staff: Staff | undefined, url: string) => app.inject({ method: 'GET', url, headers: staff ? bearer(staff) : {} })

t.test('a session exports as JSON with its messages and notes, for staff', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { name: 'Olena', firstMessage: 'hello' })
  await app.inject(replyRequest(agent, s.id, 'hi'))
  const res = await get(app, agent, `/api/chat/sessions/${s.id}/export`)
  t.equal(res.statusCode, 200)
  const data = res.json().data
  t.match(data.session, { id: s.id, name: 'Olena', lastSeq: 2, rating: null })
  t.same(data.messages.map((m: { text: string }) => m.text), ['hello', 'hi'])
  t.same(data.notes, [])
  t.equal((await get(app, agent, '/api/chat/sessions/00000000-0000-4000-8000-000000000000/export')).statusCode, 404)
  t.equal((await get(app, undefined, `/api/chat/sessions/${s.id}/export`)).statusCode, 401)
})

t.test("a site's sessions stream as NDJSON, one line per session, filtered by site and time", async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const big = await makeSession(app, site, { firstMessage: 'first' })
  // more messages than one page of the export, with text that JSON must escape
  await app.db.execute(sql`
    insert into chat_messages (site_id, session_id, seq, sender, text, created_at)
    select ${big.site.id}, ${big.id}, 1 + g, 'visitor', 'line "' || g || E'"\\n\\u00e9', now() + g * interval '1 millisecond' from generate_series(1, 2500) g`)
  await app.db.execute(sql`update chat_sessions set last_seq = 2501 where id = ${big.id}`)
  const small = await makeSession(app, site, { firstMessage: 'small' })
  const old = await makeSession(app, site, { firstMessage: 'old' })
  await app.db.execute(sql`update chat_sessions set created_at = '2020-01-01' where id = ${old.id}`)
  await makeSession(app, await makeSite(app), { firstMessage: 'other site' })

  const res = await get(app, admin, `/api/admin/export?siteId=${site.id}`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8')
  t.match(res.headers['content-disposition'], /^attachment; filename="chat-export-\d{4}-\d\d-\d\d\.ndjson"$/)
  const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as { session: { id: string }; messages: { seq: number; text: string }[]; notes: unknown[] })
  t.same(lines.map((l) => l.session.id), [old.id, big.id, small.id], 'oldest first, this site only')
  const bigLine = lines[1]
  t.equal(bigLine?.messages.length, 2501)
  t.same(bigLine?.messages.map((m) => m.seq), Array.from({ length: 2501 }, (_, i) => i + 1), 'every message once, in order')
  t.equal(bigLine?.messages[2500]?.text, 'line "2500"\né')
  t.same(lines[2]?.notes, [])
  const single = (await get(app, admin, `/api/chat/sessions/${small.id}/export`)).json().data
  t.same(lines[2], JSON.parse(JSON.stringify(single)), 'each line is what the single export gives')

  const since = (await get(app, admin, `/api/admin/export?siteId=${site.id}&from=2021-01-01`)).body.trimEnd().split('\n')
  t.equal(since.length, 2, 'from')
  const until = (await get(app, admin, `/api/admin/export?siteId=${site.id}&to=2021-01-01`)).body.trimEnd().split('\n')
  t.equal(until.length, 1, 'to')
  t.equal((await get(app, admin, `/api/admin/export?siteId=${site.id}&from=2030-01-01`)).body, '', 'nothing: empty body')

  const agent = await makeStaff(app)
  t.equal((await get(app, agent, `/api/admin/export?siteId=${site.id}`)).statusCode, 403)
  for (const q of ['', 'siteId=x', `siteId=${site.id}&from=never`, `siteId=${site.id}&from=2026-02-01&to=2026-01-01`]) {
    t.equal((await get(app, admin, `/api/admin/export?${q}`)).statusCode, 400, q)
  }
  t.equal((await get(app, admin, '/api/admin/export?siteId=00000000-0000-4000-8000-000000000000')).statusCode, 404)
})

t.test('the audit log lists logins, user and site changes, rotations and exports, newest first, for admins', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const admin = await makeStaff(app, 'admin', 'Root')
  const agent = await makeStaff(app, 'agent', 'Taras')
  for (const { email, password } of [admin, agent]) await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })
  const created = await app.inject({ method: 'POST', url: '/api/admin/sites', headers: bearer(admin), payload: { name: 'Shop', origins: [] } })
  const siteId = created.json().data.site.id
  await app.inject({ method: 'PATCH', url: `/api/admin/sites/${siteId}`, headers: bearer(admin), payload: { retentionDays: 30, telegram: { botToken: '123:secret-token', chatId: '-1' } } })
  await app.inject({ method: 'POST', url: `/api/admin/sites/${siteId}/rotate`, headers: bearer(admin) })
  await app.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { password: 'a new password', name: 'Taras B' } })
  await get(app, admin, `/api/admin/export?siteId=${siteId}`)

  const res = await get(app, admin, '/api/admin/audit')
  t.equal(res.statusCode, 200)
  const entries = res.json().data.entries as { id: number; action: string; at: string; actor: { name: string } | null; target: string; details: Record<string, unknown> }[]
  t.same(entries.map((e) => e.action), ['sessions.exported', 'user.updated', 'site.secret_rotated', 'site.updated', 'site.created', 'user.login', 'user.login'])
  t.match(entries[0], { actor: { id: admin.id, name: 'Root' }, target: siteId, at: /Z$/ })
  t.match(entries[1], { target: agent.id, details: { fields: ['name', 'password'], name: 'Taras B' } })
  t.notMatch(JSON.stringify(entries), /a new password|secret-token/, 'no secrets in the log')
  t.match(entries[3], { details: { fields: ['retentionDays', 'telegram'], retentionDays: 30 } })
  t.match(entries[6], { action: 'user.login', target: admin.id, actor: { name: 'Root' } })

  const page = (await get(app, admin, `/api/admin/audit?limit=2&before=${entries[1]?.id}`)).json().data.entries
  t.same(page.map((e: { action: string }) => e.action), ['site.secret_rotated', 'site.updated'], 'paged by id')
  const byTime = (await get(app, admin, `/api/admin/audit?before=2000-01-01T00:00:00Z`)).json().data.entries
  t.same(byTime, [], 'or by time')
  t.equal((await get(app, admin, '/api/admin/audit?action=user.login')).json().data.entries.length, 2)
  for (const q of ['limit=0', 'limit=201', 'before=yesterday', 'action=DROP TABLE', 'limit=x']) {
    t.equal((await get(app, admin, `/api/admin/audit?${q}`)).statusCode, 400, q)
  }
  t.equal((await get(app, await makeStaff(app), '/api/admin/audit')).statusCode, 403, 'admins only')
  t.equal((await get(app, undefined, '/api/admin/audit')).statusCode, 401)
})
