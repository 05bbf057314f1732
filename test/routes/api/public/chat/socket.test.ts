import t from 'tap'
import { buildTestApp } from '../../../../helpers/app.js'
import { makeSession, makeSite, makeStaff, poll, replyRequest, sendRequest, type TestSession } from '../../../../helpers/fixtures.js'
import { listen, openSocket, refusedUpgrade, TestSocket, widgetUrl } from '../../../../helpers/sockets.js'

const sessionFrame = (socket: TestSocket, status: string) =>
  socket.waitUntil(`session ${status}`, () => socket.ofType('session').some((f) => f.session?.status === status))

t.test('a widget socket gets the backlog, then pushed replies', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hello' })
  await app.inject(sendRequest(s, { text: 'anyone?' }))
  const socket = await openSocket(t, widgetUrl(base, s))
  await socket.waitForSeq(2)
  await app.inject(replyRequest(await makeStaff(app), s.id, 'Hi, Olena here'))
  await socket.waitForSeq(3)
  t.same(socket.seqs(), [1, 2, 3])
  t.match(socket.ofType('message')[2]?.message, { seq: 3, sender: 'agent', senderName: 'Olena', text: 'Hi, Olena here', sessionId: s.id })
  t.same(socket.ofType('session'), [{ type: 'session', session: { id: s.id, status: 'open' } }])
})

t.test('a socket opened with after=k gets exactly the messages after k, for every k', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'm1' })
  for (const text of ['m2', 'm3', 'm4', 'm5']) await app.inject(sendRequest(s, { text }))
  const sockets = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => openSocket(t, widgetUrl(base, s, { after: k }))))
  await Promise.all(sockets.map((socket) => sessionFrame(socket, 'open')))
  await app.inject(sendRequest(s, { text: 'm6' }))
  await Promise.all(sockets.map((socket) => socket.waitForSeq(6)))
  for (const [k, socket] of sockets.entries()) {
    t.same(socket.seqs(), [1, 2, 3, 4, 5, 6].filter((seq) => seq > k), `after=${k}`)
  }
})

t.test('the upgrade is refused with 401 for a wrong key, token or the site secret, and 404 for another site\'s session', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const other = await makeSession(app, site)
  const foreign = await makeSession(app, await makeSite(app))
  const cases: [string, TestSession, number][] = [
    ['unknown key', { ...s, site: { ...site, apiKey: 'pk_nope' } }, 401],
    ['no key', { ...s, site: { ...site, apiKey: '' } }, 401],
    ['wrong token', { ...s, token: 'st_wrong' }, 401],
    ['no token', { ...s, token: '' }, 401],
    ['another session\'s token', { ...s, token: other.token }, 401],
    ['the site secret instead of a token', { ...s, token: site.apiSecret }, 401],
    ['a session of another site', { ...foreign, site }, 404],
  ]
  for (const [name, session, status] of cases) {
    const res = await refusedUpgrade(widgetUrl(base, session))
    t.equal(res.status, status, name)
    t.equal(res.body.success, false, name)
  }
  t.equal(app.hub.widgetSocketCount, 0)
})

t.test('a browser origin the site does not allow is refused with 403; one it allows gets a socket', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app, ['https://shop.example']))
  const res = await refusedUpgrade(widgetUrl(base, s), { origin: 'https://evil.example' })
  t.equal(res.status, 403)
  t.equal(res.body.error?.code, 'FORBIDDEN')
  const socket = await openSocket(t, widgetUrl(base, s), { origin: 'https://shop.example' })
  await sessionFrame(socket, 'open')
})

t.test('a plain GET on the socket route is 426', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app))
  const res = await app.inject({ method: 'GET', url: widgetUrl('', s) })
  t.equal(res.statusCode, 426)
  t.equal(res.json().error.code, 'UPGRADE_REQUIRED')
})

t.test('ping is answered with pong', async (t) => {
  const app = await buildTestApp(t)
  const socket = await openSocket(t, widgetUrl(await listen(app), await makeSession(app, await makeSite(app))))
  socket.send({ type: 'ping' })
  await socket.waitUntil('pong', () => socket.ofType('pong').length === 1)
  t.pass()
})

t.test('a message sent on the socket is stored once per clientMessageId and comes back once', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app), { name: 'Ivan' })
  const socket = await openSocket(t, widgetUrl(await listen(app), s))
  socket.send({ type: 'message', text: 'hi there', clientMessageId: 'c-1' })
  socket.send({ type: 'message', text: 'hi there', clientMessageId: 'c-1' })
  socket.send({ type: 'message', text: 'second' })
  await socket.waitForSeq(2)
  t.same((await poll(app, s)).map((m) => [m.seq, m.text]), [[1, 'hi there'], [2, 'second']])
  t.match(socket.ofType('message')[0]?.message, { seq: 1, sender: 'visitor', senderName: 'Ivan', clientMessageId: 'c-1' })
  t.same(socket.seqs(), [1, 2])
  t.same(socket.ofType('error'), [])
})

t.test('malformed frames get error frames in the envelope shape and the socket stays usable', async (t) => {
  const app = await buildTestApp(t)
  const s = await makeSession(app, await makeSite(app))
  const socket = await openSocket(t, widgetUrl(await listen(app), s))
  const bad = ['not json', '[]', '{"type":"shout"}', '{"type":"message"}', '{"type":"message","text":"   "}',
    '{"type":"message","text":"x","extra":1}', JSON.stringify({ type: 'message', text: 'x'.repeat(4001) })]
  for (const frame of bad) socket.send(frame)
  socket.ws.send(Buffer.from('{"type":"ping"}'), { binary: true })
  await socket.waitUntil('an error per bad frame', () => socket.ofType('error').length === bad.length + 1)
  for (const f of socket.ofType('error')) t.equal(f.error?.code, 'VALIDATION_ERROR', f.error?.message ?? '')
  socket.send({ type: 'ping' })
  await socket.waitUntil('pong', () => socket.ofType('pong').length === 1)
  t.same(await poll(app, s), [])
})

t.test('closing the session pushes a session frame, and a later send gets SESSION_CLOSED', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  const socket = await openSocket(t, widgetUrl(await listen(app), s))
  await sessionFrame(socket, 'open')
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: { authorization: `Bearer ${staff.token}` } })
  await sessionFrame(socket, 'closed')
  socket.send({ type: 'message', text: 'wait!', clientMessageId: 'late-1' })
  await socket.waitUntil('an error frame', () => socket.ofType('error').length === 1)
  t.match(socket.ofType('error')[0], { type: 'error', error: { code: 'SESSION_CLOSED' }, clientMessageId: 'late-1' })
})

t.test('a socket opened on a closed session is told so after the backlog', async (t) => {
  const app = await buildTestApp(t)
  const staff = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'bye' })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: { authorization: `Bearer ${staff.token}` } })
  const socket = await openSocket(t, widgetUrl(await listen(app), s))
  await sessionFrame(socket, 'closed')
  t.same(socket.frames.map((f) => f.type), ['message', 'session'])
})

t.test('sockets of one session opened at the same time each get their backlog before the session frame', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'm1' })
  for (const text of ['m2', 'm3']) await app.inject(sendRequest(s, { text }))
  // another socket's status read, still running when a new socket joins, must not reach the new one first
  // two rounds of four stay within WS_MAX_PER_SESSION (8) while the first round's closes are noticed
  for (let round = 0; round < 2; round++) {
    const sockets = await Promise.all([0, 1, 2, 3].map(() => openSocket(t, widgetUrl(base, s))))
    await Promise.all(sockets.map(async (socket) => {
      await sessionFrame(socket, 'open')
      await socket.waitForSeq(3)
    }))
    for (const socket of sockets) {
      t.same(socket.frames.map((f) => f.type === 'message' ? f.message?.seq : f.type), [1, 2, 3, 'session'], `round ${round}`)
      socket.ws.close()
      await socket.closed
    }
  }
})

t.test('socket sends share the per-session rate limit', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_SENDS_PER_MINUTE: '2' } })
  const s = await makeSession(app, await makeSite(app))
  const socket = await openSocket(t, widgetUrl(await listen(app), s))
  for (const text of ['one', 'two', 'three']) socket.send({ type: 'message', text, clientMessageId: text })
  await socket.waitUntil('an error frame', () => socket.ofType('error').length === 1)
  t.match(socket.ofType('error')[0], { error: { code: 'RATE_LIMITED' }, clientMessageId: 'three' })
  await socket.waitForSeq(2)
  t.same((await poll(app, s)).map((m) => m.text), ['one', 'two'])
})

t.test('the OpenAPI description lists both socket routes', async (t) => {
  const app = await buildTestApp(t)
  const paths = (await app.inject({ method: 'GET', url: '/docs/json' })).json().paths
  t.match(paths['/api/public/chat/sessions/{id}/ws']?.get, { summary: /WebSocket/, description: /after/ })
  t.match(paths['/api/chat/ws']?.get, { summary: /WebSocket/, description: /4001/ })
})

t.test('rotating the site key closes its open sockets with 4001 and the old key no longer opens one', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const otherSite = await makeSite(app)
  const s = await makeSession(app, site)
  const bystander = await openSocket(t, widgetUrl(base, await makeSession(app, otherSite)))
  const socket = await openSocket(t, widgetUrl(base, s))
  await sessionFrame(socket, 'open')
  const res = await app.inject({ method: 'POST', url: `/api/admin/sites/${site.id}/rotate`, headers: { authorization: `Bearer ${admin.token}` } })
  t.equal(res.statusCode, 200)
  t.equal((await socket.closed).code, 4001)
  t.equal((await refusedUpgrade(widgetUrl(base, s))).status, 401)
  const renewed = await openSocket(t, widgetUrl(base, { ...s, site: { ...site, apiKey: res.json().data.site.apiKey } }))
  await sessionFrame(renewed, 'open')
  t.equal(bystander.ws.readyState, bystander.ws.OPEN)
})
