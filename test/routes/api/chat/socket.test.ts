import t from 'tap'
import { buildApp } from '../../../../src/app.js'
import { buildTestApp, fileDatabaseUrl, testConfig } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../../../helpers/fixtures.js'
import { floodWithoutReading, dashboardUrl, listen, openDashboard, openSocket, refusedUpgrade } from '../../../helpers/sockets.js'

t.test('a dashboard socket sees sessions created, messages and session updates', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const dashboard = await openDashboard(t, await listen(app), staff)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hello', name: 'Ivan' })
  await dashboard.waitUntil('session.created and message 1', () => dashboard.ofType('session.created').length === 1 && dashboard.ofType('message.created').length === 1)
  t.match(dashboard.ofType('session.created')[0]?.session, { id: s.id, name: 'Ivan', status: 'open' })
  t.match(dashboard.ofType('message.created')[0]?.message, { seq: 1, text: 'hello', sessionId: s.id })

  await app.inject(replyRequest(staff, s.id, 'hi Ivan'))
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: bearer(staff) })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(staff) })
  await dashboard.waitUntil('closed', () => dashboard.ofType('session.updated').some((f) => f.session?.status === 'closed'))
  t.same(dashboard.ofType('message.created').map((f) => f.message?.seq), [1, 2])
  t.match(dashboard.ofType('session.updated').at(-1)?.session, { id: s.id, status: 'closed', unreadCount: 0, lastMessage: { seq: 2 } })
})

t.test('contact details and unread counts arrive as session.updated', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  await app.inject(sendRequest(s, { text: 'one' }))
  const dashboard = await openDashboard(t, await listen(app), staff)
  await app.inject({ method: 'POST', url: '/api/public/chat/sessions', headers: { 'x-api-key': site.apiKey, 'x-session-token': s.token }, payload: { userSessionId: s.userSessionId, phone: '+380 44 123' } })
  await dashboard.waitUntil('session.updated', () => dashboard.ofType('session.updated').length === 1)
  t.match(dashboard.ofType('session.updated')[0]?.session, { id: s.id, phone: '+380 44 123', unreadCount: 1 })
})

t.test('old clients: a wrong token in the URL is refused with 401 before the upgrade', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const staff = await makeStaff(app)
  for (const token of ['not-a-jwt', staff.token.slice(0, -2) + 'xx']) {
    const res = await refusedUpgrade(dashboardUrl(base, { ...staff, token }))
    t.equal(res.status, 401)
    t.equal(res.body.error?.code, 'UNAUTHORIZED')
  }
})

t.test('a socket closes with 4001 when its token expires', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const shortLived = app.jwt.sign({ sub: staff.id, role: 'agent', tv: 0 }, { expiresIn: 2 })
  const dashboard = await openSocket(t, dashboardUrl(await listen(app), { ...staff, token: shortLived }))
  const closed = await dashboard.closed
  t.equal(closed.code, 4001)
})

t.test('disabling a user closes their sockets with 4001', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app)
  const base = await listen(app)
  const agentSocket = await openDashboard(t, base, agent)
  const adminSocket = await openDashboard(t, base, admin)
  const res = await app.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { disabled: true } })
  t.equal(res.statusCode, 200)
  t.equal((await agentSocket.closed).code, 4001)
  adminSocket.send({ type: 'ping' })
  await adminSocket.waitUntil('pong', () => adminSocket.ofType('pong').length === 1)
  t.equal(adminSocket.ws.readyState, adminSocket.ws.OPEN)
})

t.test('a frame too large or not UTF-8 before the auth frame closes the socket (1009, 1007) and is no error in the log', async (t) => {
  const logged: { level: number; msg: string }[] = []
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'info' }), databaseUrl: await fileDatabaseUrl(), logStream: { write: (line) => logged.push(JSON.parse(line) as { level: number; msg: string }) } })
  t.teardown(() => app.close())
  const base = await listen(app)
  const tooLarge = await openSocket(t, `${base}/api/chat/ws`)
  tooLarge.send('x'.repeat(app.config.bodyLimitBytes + 1))
  t.equal((await tooLarge.closed).code, 1009)
  const notUtf8 = await openSocket(t, `${base}/api/chat/ws`)
  notUtf8.ws.send(Buffer.from([0xff, 0xfe]), { binary: false })
  t.equal((await notUtf8.closed).code, 1007)
  t.same(logged.filter((l) => l.level >= 50).map((l) => l.msg), [], 'a client breaking the protocol is not a server error')
  t.ok(logged.some((l) => l.msg.includes('Max payload size exceeded')), 'still logged, below error')
})

t.test('a dashboard may only ping; other frames get an error frame', async (t) => {
  const app = await buildTestApp(t)
  const dashboard = await openDashboard(t, await listen(app), await makeStaff(app))
  dashboard.send({ type: 'message', text: 'hi' })
  dashboard.send({ type: 'ping' })
  await dashboard.waitUntil('error then pong', () => dashboard.frames.length === 2)
  t.match(dashboard.frames, [{ type: 'error', error: { code: 'VALIDATION_ERROR' } }, { type: 'pong' }])
})

t.test('a dashboard that sends frames but never reads their answers is cut off with 4008: the answers do not pile up', async (t) => {
  const bound = 65536
  const app = await buildTestApp(t, { env: { WS_MAX_BUFFERED_BYTES: String(bound) } })
  const dashboard = await openDashboard(t, await listen(app), await makeStaff(app))
  const { cut, sent, mostBuffered } = await floodWithoutReading(app, dashboard)
  t.ok(cut, `cut off after ${sent} frames`)
  t.ok(mostBuffered < 2 * bound, `at most about the bound queued (${mostBuffered} bytes)`)
  if (!cut) return
  t.equal((await dashboard.closed).code, 4008)
})
