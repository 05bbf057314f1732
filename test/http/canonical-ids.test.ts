import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, replyRequest, sendRequest, sessionHeaders, type TestSession } from '../helpers/fixtures.js'
import { png } from '../helpers/files.js'
import { call, serve } from '../helpers/http.js'
import { visitorUpload } from '../helpers/uploads.js'
import { listen, openSocket, widgetUrl } from '../helpers/sockets.js'

// Ids are validated once, where a route's params and query string (or a frame) are checked:
// an upper-cased uuid must behave as the lower-case one on every route, not only those with a special case.
const shouting = (s: TestSession): TestSession => ({ ...s, id: s.id.toUpperCase() })

t.test('a widget that spells its session id in upper case polls, sends and spends the same send budget', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_SENDS_PER_MINUTE: '2' } })
  const s = await makeSession(app, await makeSite(app))
  const sent = await app.inject(sendRequest(shouting(s), { text: 'hello' }))
  t.equal(sent.statusCode, 201, sent.body)
  t.equal(sent.json().data.message.sessionId, s.id)
  t.same((await poll(app, shouting(s))).map((m) => m.text), ['hello'], 'the poll finds the session')
  t.same(await poll(app, shouting(s)), await poll(app, s), 'as the lower-case id does')
  t.equal((await app.inject(sendRequest(s, { text: 'again' }))).statusCode, 201)
  t.equal((await app.inject(sendRequest(shouting(s), { text: 'a third' }))).statusCode, 429, 'one budget whatever the spelling')
})

t.test('a widget socket opened with an upper-case session id gets the agent\'s replies', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  const widget = await openSocket(t, widgetUrl(await listen(app), shouting(s)))
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  t.equal((await app.inject(replyRequest(staff, s.id, 'we are here'))).statusCode, 201)
  await widget.waitUntil('the reply', () => widget.ofType('message').length > 0)
  t.match(widget.ofType('message')[0], { message: { sessionId: s.id, text: 'we are here' } })
})

t.test('staff routes take upper-case ids in the path and the query string', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const get = (url: string) => app.inject({ method: 'GET', url, headers: bearer(admin) })
  const one = await get(`/api/chat/sessions/${s.id.toUpperCase()}`)
  t.equal(one.statusCode, 200)
  t.equal(one.json().data.session.id, s.id)
  t.equal((await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id.toUpperCase()}/assign`, headers: bearer(admin), payload: { userId: admin.id } })).statusCode, 200)
  const listed = await get(`/api/chat/sessions?siteId=${site.id.toUpperCase()}&assignedTo=${admin.id.toUpperCase()}`)
  t.same(listed.json().data.sessions.map((x: { id: string }) => x.id), [s.id], 'filtered by site and assignee')
  t.equal((await get(`/api/admin/sites/${site.id.toUpperCase()}`)).json().data.site.id, site.id)
  const exported = await get(`/api/chat/sessions/${s.id.toUpperCase()}/export`)
  t.equal(exported.statusCode, 200)
  const audit = (await get('/api/admin/audit?action=session.exported')).json().data.entries
  t.match(audit, [{ target: s.id }], 'the audit log names the session as Postgres writes it')
})

t.test('ids in request bodies may be upper case: users\' sites, assignees, canned replies\' site, erasures\' site, attachments', async (t) => {
  const app = await buildTestApp(t)
  const base = await serve(app)
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const SITE = site.id.toUpperCase()
  const post = (path: string, body: unknown, staff = admin, method = 'POST') => call(base, path, { method, headers: bearer(staff), body })

  const created = await post('/api/admin/users', { email: 'upper@example.com', name: 'Upper', password: 'a-long-password', role: 'agent', siteIds: [SITE, site.id] })
  t.equal(created.status, 201, created.text)
  t.same((created.body.data?.user as { siteIds: string[] }).siteIds, [site.id], 'one site, as Postgres writes it')
  const userId = (created.body.data?.user as { id: string }).id
  const patched = await post(`/api/admin/users/${userId}`, { siteIds: [SITE] }, admin, 'PATCH')
  t.equal(patched.status, 200, patched.text)
  t.same((patched.body.data?.user as { siteIds: string[] }).siteIds, [site.id])

  // an agent may assign a chat only to themselves: their own id in upper case is themselves
  const agent = await makeStaff(app, 'agent', 'Olena', [site.id])
  const s = await makeSession(app, site)
  const assigned = await post(`/api/chat/sessions/${s.id}/assign`, { userId: agent.id.toUpperCase() }, agent)
  t.equal(assigned.status, 200, assigned.text)
  t.match(assigned.body.data, { session: { assignedTo: { id: agent.id } } })

  const canned = await post('/api/chat/canned', { shortcut: 'hours', text: 'We are open 9-5', siteId: SITE })
  t.equal(canned.status, 201, canned.text)
  t.match(canned.body.data, { canned: { siteId: site.id } })

  // the visitor sends its upload's id in upper case
  const file = await visitorUpload(app, s, png())
  const sent = await call(base, `/api/public/chat/sessions/${s.id}/messages`, { headers: sessionHeaders(s), body: { text: 'see this', attachments: [file.id.toUpperCase()] } })
  t.equal(sent.status, 201, sent.text)
  t.match(sent.body.data, { message: { attachments: [{ id: file.id }] } })

  const erased = await post('/api/admin/erasures', { siteId: SITE, userSessionId: s.userSessionId })
  t.equal(erased.status, 200, erased.text)
  t.same(erased.body.data, { erasedSessions: 1 })
})
