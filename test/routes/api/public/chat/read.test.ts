import t from 'tap'
import { buildTestApp, sharedTestApp } from '../../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, pollRequest, replyRequest, sendRequest, sessionHeaders, type TestSession } from '../../../../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket, widgetUrl } from '../../../../helpers/sockets.js'

const readRequest = (s: TestSession, body: unknown, headers: Record<string, string> = sessionHeaders(s)) =>
  ({ method: 'POST' as const, url: `/api/public/chat/sessions/${s.id}/read`, headers, payload: body as Record<string, unknown> })

t.test('read marks start at 0 and are in the public view, the admin view and the poll', async (t) => {
  const app = await sharedTestApp()
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hi' })
  const poll = await app.inject(pollRequest(s))
  t.equal(poll.json().data.agentReadSeq, 0)
  const admin = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(staff) })
  t.match(admin.json().data.session, { visitorReadSeq: 0, agentReadSeq: 0 })
  const list = await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) })
  t.match(list.json().data.sessions.find((x: { id: string }) => x.id === s.id), { visitorReadSeq: 0, agentReadSeq: 0 })
  const started = await app.inject({ method: 'POST', url: '/api/public/chat/sessions', headers: sessionHeaders(s), payload: { userSessionId: s.userSessionId } })
  t.match(started.json().data.session, { visitorReadSeq: 0, agentReadSeq: 0 })
})

t.test('the visitor read mark only moves forward and stops at lastSeq', async (t) => {
  const app = await sharedTestApp()
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hi' })
  await app.inject(replyRequest(staff, s.id, 'hello'))
  await app.inject(replyRequest(staff, s.id, 'how can I help?'))
  const one = await app.inject(readRequest(s, { seq: 2 }))
  t.equal(one.statusCode, 200)
  t.match(one.json().data.session, { id: s.id, visitorReadSeq: 2, lastSeq: 3 })
  t.equal((await app.inject(readRequest(s, { seq: 1 }))).json().data.session.visitorReadSeq, 2, 'never moves back')
  t.equal((await app.inject(readRequest(s, { seq: 999 }))).json().data.session.visitorReadSeq, 3, 'above lastSeq counts as lastSeq')
  // API.md bounds it only by lastSeq: any seq a client may hold (up to 2^53 − 1, as for `after`) counts as lastSeq
  await app.inject(replyRequest(staff, s.id, 'still there?'))
  for (const seq of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
    const res = await app.inject(readRequest(s, { seq }))
    t.equal(res.statusCode, 200, `seq ${seq}`)
    t.equal(res.json().data.session.visitorReadSeq, 4, `seq ${seq} counts as lastSeq`)
  }
  const admin = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(staff) })
  t.equal(admin.json().data.session.visitorReadSeq, 4)
})

t.test('an agent read records the newest seq; the poll carries it', async (t) => {
  const app = await sharedTestApp()
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'one' })
  await app.inject(sendRequest(s, { text: 'two' }))
  const read = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: bearer(staff) })
  t.match(read.json().data.session, { agentReadSeq: 2, unreadCount: 0 })
  await app.inject(sendRequest(s, { text: 'three' }))
  const poll = await app.inject(pollRequest(s, 'after=2'))
  t.match(poll.json().data, { agentReadSeq: 2, lastSeq: 3 })
  t.equal((await app.inject({ method: 'GET', url: `/api/public/chat/sessions/${s.id}/messages`, headers: sessionHeaders(s) })).json().data.agentReadSeq, 2)
})

t.test('read needs the session credentials; bad input is 400; another site\'s session 404', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const foreign = await makeSession(app, await makeSite(app))
  t.equal((await app.inject(readRequest(s, { seq: 1 }, { 'x-api-key': site.apiKey }))).statusCode, 401)
  t.equal((await app.inject(readRequest(s, { seq: 1 }, { 'x-api-key': site.apiKey, 'x-session-token': foreign.token }))).statusCode, 401)
  for (const body of [{}, { seq: -1 }, { seq: 1.5 }, { seq: '3' }, { seq: 2 ** 53 }, { seq: 1, extra: true }, null]) {
    const res = await app.inject(readRequest(s, body))
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  const other = await app.inject(readRequest({ ...foreign, site }, { seq: 1 }, { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret }))
  t.equal(other.statusCode, 404)
  t.equal((await app.inject({ ...readRequest(s, { seq: 1 }), url: '/api/public/chat/sessions/not-a-uuid/read' })).statusCode, 401, 'a token for another id')
})

t.test('read frames reach the other side\'s sockets, on both ways, across instances', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const staff = await makeStaff(a)
  const s = await makeSession(a, await makeSite(a), { firstMessage: 'hello' })
  await a.inject(replyRequest(staff, s.id, 'hi there'))
  const widget = await openSocket(t, widgetUrl(await listen(a), s, { after: 2 }))
  const dashboard = await openSocket(t, dashboardUrl(await listen(b), staff))
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  // the visitor reads on the socket (instance A); the dashboard on B hears it
  widget.send({ type: 'read', seq: 2 })
  await dashboard.waitUntil('visitor read frame', () => dashboard.ofType('read').length > 0)
  t.same(dashboard.ofType('read'), [{ type: 'read', sessionId: s.id, reader: 'visitor', seq: 2 }])
  // the agent reads through instance B; the widget on A hears it
  await b.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: bearer(staff) })
  await widget.waitUntil('agent read frame', () => widget.ofType('read').length > 0)
  t.same(widget.ofType('read'), [{ type: 'read', reader: 'agent', seq: 2 }])
  // a mark that does not move is neither written nor announced
  widget.send({ type: 'read', seq: 1 })
  widget.send({ type: 'ping' })
  await widget.waitUntil('pong', () => widget.ofType('pong').length > 0)
  await b.inject({ method: 'POST', url: `/api/public/chat/sessions/${s.id}/read`, headers: sessionHeaders(s), payload: { seq: 2 } })
  await a.inject(sendRequest(s, { text: 'after' }))
  await dashboard.waitUntil('message 3', () => dashboard.ofType('message.created').some((f) => f.message?.seq === 3))
  t.equal(dashboard.ofType('read').length, 1, 'no second visitor read frame')
  // on the socket too, a seq past the integer column counts as lastSeq
  widget.send({ type: 'read', seq: Number.MAX_SAFE_INTEGER })
  await dashboard.waitUntil('the second visitor read frame', () => dashboard.ofType('read').length === 2)
  t.same(dashboard.ofType('read')[1], { type: 'read', sessionId: s.id, reader: 'visitor', seq: 3 })
  widget.send({ type: 'read', seq: 'x' })
  await widget.waitUntil('error frame', () => widget.ofType('error').length > 0)
  t.equal(widget.ofType('error')[0]?.error?.code, 'VALIDATION_ERROR')
})

t.test('read frames never go back: a mark heard after a higher one (the bus keeps order per instance only) or repeated is not passed on', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'one' })
  for (const text of ['two', 'three', 'four', 'five']) await app.inject(sendRequest(s, { text }))
  const base = await listen(app)
  const widget = await openSocket(t, widgetUrl(base, s, { after: 5 }))
  const dashboard = await openSocket(t, dashboardUrl(base, staff))
  await widget.waitUntil('session frame', () => widget.ofType('session').length > 0)
  const siteId = (await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(staff) })).json().data.session.siteId as string
  // what two instances' notifications can bring in this order: marks stored at 5, then the older 2, then 5 again
  for (const seq of [5, 2, 5]) {
    app.bus.publish({ k: 'read', site: siteId, session: s.id, seq, from: 'agent' })
    app.bus.publish({ k: 'read', site: siteId, session: s.id, seq, from: 'visitor' })
  }
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: bearer(staff) })
  await widget.waitUntil('a read frame', () => widget.ofType('read').length > 0)
  widget.send({ type: 'read', seq: 5 })
  widget.send({ type: 'ping' })
  await widget.waitUntil('pong', () => widget.ofType('pong').length > 0)
  await app.inject(sendRequest(s, { text: 'six' }))
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: bearer(staff) })
  widget.send({ type: 'read', seq: 6 })
  await widget.waitUntil('the mark moved to 6', () => widget.ofType('read').some((f) => f.seq === 6))
  await dashboard.waitUntil('the visitor mark moved to 6', () => dashboard.ofType('read').some((f) => f.seq === 6))
  t.same(widget.ofType('read').map((f) => f.seq), [5, 6])
  t.same(dashboard.ofType('read').map((f) => f.seq), [5, 6])
})
