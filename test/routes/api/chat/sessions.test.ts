import { randomUUID } from 'node:crypto'
import t from 'tap'
import { eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { chatSessions } from '../../../../src/db/schema.js'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, poll, replyRequest, sendRequest, type Staff } from '../../../helpers/fixtures.js'

type ListedSession = { id: string; unreadCount: number; lastMessage: { text: string } | null }

async function list(app: FastifyInstance, staff: Staff, query: string) {
  const res = await app.inject({ method: 'GET', url: `/api/chat/sessions?${query}`, headers: bearer(staff) })
  if (res.statusCode !== 200) throw new Error(`list ${query}: ${res.statusCode} ${res.body}`)
  return res.json().data as { sessions: ListedSession[]; total: number; page: number; limit: number }
}

t.test('the list filters by status, search, site, dates and unread, pages, and puts the newest activity first', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const agent = await makeStaff(app)
  const siteA = await makeSite(app)
  const siteB = await makeSite(app)
  const olena = await makeSession(app, siteA, { name: 'Olena Petrenko', phone: '+380 67 111', email: 'olena@shop.example', firstMessage: 'Do you ship to Lviv?' })
  const taras = await makeSession(app, siteA, { name: 'Taras', firstMessage: 'Price of the blue sofa?' })
  const mykola = await makeSession(app, siteB, { phone: '050 999', firstMessage: 'hello' })
  await app.inject(replyRequest(agent, taras.id, 'It is 300 euro'))
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${mykola.id}/close`, headers: bearer(agent) })
  await app.db.update(chatSessions).set({ createdAt: new Date('2026-01-10T12:00:00Z') }).where(eq(chatSessions.id, olena.id))
  await app.db.update(chatSessions).set({ createdAt: new Date('2026-02-10T12:00:00Z') }).where(eq(chatSessions.id, taras.id))
  await app.db.update(chatSessions).set({ createdAt: new Date('2026-03-10T12:00:00Z') }).where(eq(chatSessions.id, mykola.id))
  await app.inject(sendRequest(olena, { text: 'anyone there?' }))

  const ids = async (q: string) => (await list(app, agent, q)).sessions.map((s) => s.id)
  const all = await list(app, agent, '')
  t.equal(all.total, 3)
  t.same(all.sessions.map((s) => s.id), [olena.id, taras.id, mykola.id], 'newest activity first')
  t.equal(all.sessions[0]?.lastMessage?.text, 'anyone there?')
  t.match(all, { page: 1, limit: 20 })
  t.same(await ids('status=open'), [olena.id, taras.id])
  t.same(await ids('status=closed'), [mykola.id])
  t.same(await ids('status=all'), [olena.id, taras.id, mykola.id])
  t.same(await ids('search=petrenko'), [olena.id], 'name, case-insensitive')
  t.same(await ids('search=67%20111'), [olena.id], 'phone')
  t.same(await ids('search=shop.example'), [olena.id], 'email')
  t.same(await ids('search=blue%20sofa'), [taras.id], 'visitor message text')
  t.same(await ids('search=300%20euro'), [taras.id], 'agent message text')
  t.same(await ids('search=%20%20'), [olena.id, taras.id, mykola.id], 'a blank search is no filter')
  t.same(await ids(`siteId=${siteB.id}`), [mykola.id])
  t.same(await ids(`siteId=${randomUUID()}`), [])
  t.same(await ids('from=2026-02-01'), [taras.id, mykola.id])
  t.same(await ids('to=2026-02-10T12:00:00.000Z'), [olena.id], 'to is exclusive')
  t.same(await ids('from=2026-02-10T12:00:00.000Z&to=2026-03-01'), [taras.id], 'from is inclusive')
  t.same(await ids('unread=true'), [olena.id, mykola.id], 'sessions with visitor messages no agent answered or read')
  t.same(await ids('unread=false'), [olena.id, taras.id, mykola.id])
  t.same(await ids('status=open&unread=true&siteId=' + siteA.id), [olena.id], 'filters combine')
  const page1 = await list(app, agent, 'limit=2&page=1')
  const page2 = await list(app, agent, 'limit=2&page=2')
  const page3 = await list(app, agent, 'limit=2&page=3')
  t.same([...page1.sessions, ...page2.sessions].map((s) => s.id), all.sessions.map((s) => s.id))
  t.match(page2, { total: 3, page: 2, limit: 2 })
  t.same(page3.sessions, [])
  t.same((await list(app, agent, 'page=500')).sessions, [], 'a page far past the end is empty')
})

t.test('search ignores case in every alphabet, not only ASCII: Ukrainian names and messages are found by lower or upper case', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const agent = await makeStaff(app)
  const site = await makeSite(app)
  const olena = await makeSession(app, site, { name: 'Олена Коваль', firstMessage: 'Потрібна допомога з доставкою' })
  const zoe = await makeSession(app, site, { name: 'Zoë Éclair', firstMessage: 'hello' })
  const ids = async (q: string) => (await list(app, agent, `search=${encodeURIComponent(q)}`)).sessions.map((s) => s.id)
  t.same(await ids('олена'), [olena.id], 'name, lower case')
  t.same(await ids('КОВАЛЬ'), [olena.id], 'name, upper case')
  t.same(await ids('ДОПОМОГА'), [olena.id], 'message text, upper case')
  t.same(await ids('zoË écl'), [zoe.id], 'Latin letters beyond ASCII')
})

t.test('invalid list parameters are 400', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  for (const q of ['status=pending', 'siteId=not-a-uuid', 'from=someday', 'to=2026-02-30T25:00', 'from=2026-03-01&to=2026-02-01', 'unread=maybe',
    'page=0', 'page=-1', 'page=100001', 'page=1e30', 'limit=0', 'limit=101', `search=${'x'.repeat(201)}`,
    'page=501', 'page=101&limit=100', 'page=100000&limit=1']) {
    const res = await app.inject({ method: 'GET', url: `/api/chat/sessions?${q}`, headers: bearer(agent) })
    t.equal(res.statusCode, 400, q)
    t.equal(res.json().error.code, 'VALIDATION_ERROR', q)
  }
  const status = await app.inject({ method: 'GET', url: '/api/chat/sessions?status=pending', headers: bearer(agent) })
  t.equal(status.json().error.message, 'status must be equal to one of the allowed values', 'one readable message')
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/sessions' })).statusCode, 401, 'no token')
})

t.test('detail has the session and the whole history; unknown or malformed ids are 404', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'one', email: 'v@example.com', pageUrl: 'https://shop.example/p/1' })
  await app.inject(sendRequest(s, { text: 'two' }))
  const res = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(agent) })
  t.equal(res.statusCode, 200)
  const { session, messages } = res.json().data
  t.match(session, { id: s.id, status: 'open', email: 'v@example.com', pageUrl: 'https://shop.example/p/1', siteId: s.site.id, unreadCount: 2, lastSeq: 2, closedAt: null, firstResponseAt: null, assignedTo: null })
  t.equal(session.lastMessage.text, 'two')
  t.same(messages.map((m: { text: string }) => m.text), ['one', 'two'])
  for (const id of [randomUUID(), 'nope', "1' or '1'='1"]) {
    for (const [method, suffix] of [['GET', ''], ['POST', '/read'], ['POST', '/close']] as const) {
      const r = await app.inject({ method, url: `/api/chat/sessions/${encodeURIComponent(id)}${suffix}`, headers: bearer(agent) })
      t.equal(r.statusCode, 404, `${method} ${id}${suffix}`)
      t.equal(r.json().error.code, 'NOT_FOUND')
    }
    const reply = await app.inject(replyRequest(agent, encodeURIComponent(id), 'hi'))
    t.equal(reply.statusCode, 404)
  }
})

t.test('a reply is 201 as the agent with their name, reaches the visitor, and sets first response', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hi' })
  const res = await app.inject(replyRequest(agent, s.id, 'Hello, how can I help?'))
  t.equal(res.statusCode, 201)
  t.match(res.json().data.message, { seq: 2, sender: 'agent', senderName: 'Olena', text: 'Hello, how can I help?', sessionId: s.id })
  t.match((await poll(app, s, 'after=1'))[0], { sender: 'agent', senderName: 'Olena' })
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(agent) })
  t.equal(detail.json().data.session.unreadCount, 0, 'answering reads the session')
  t.ok(detail.json().data.session.firstResponseAt)
  const replyOnce = () => app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/messages`, headers: bearer(agent), payload: { text: 'once', clientMessageId: 'agent-1' } })
  const first = await replyOnce()
  const again = await replyOnce()
  t.same([first.statusCode, again.statusCode], [201, 200], 'a reply retried with its clientMessageId is stored once')
  t.equal(again.json().data.message.id, first.json().data.message.id)
  for (const body of [{ text: '  ' }, { text: 'x'.repeat(4001) }, { text: 'hi', sender: 'bot' }]) {
    const bad = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/messages`, headers: bearer(agent), payload: body })
    t.equal(bad.statusCode, 400, JSON.stringify(body).slice(0, 40))
  }
})

t.test('read resets unreadCount; the visitor then adds to it again', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'one' })
  await app.inject(sendRequest(s, { text: 'two' }))
  const read = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: bearer(agent) })
  t.equal(read.statusCode, 200)
  t.equal(read.json().data.session.unreadCount, 0)
  await app.inject(sendRequest(s, { text: 'three' }))
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(agent) })
  t.equal(detail.json().data.session.unreadCount, 1)
  const withJsonHeader = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: { ...bearer(agent), 'content-type': 'application/json' }, payload: '' })
  t.equal(withJsonHeader.statusCode, 200, 'an empty JSON body on a body-less POST is fine')
})

t.test('close is idempotent, the visitor poll shows it, and replies then get 409', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'bye' })
  const first = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(agent) })
  t.equal(first.statusCode, 200)
  t.match(first.json().data.session, { id: s.id, status: 'closed' })
  const closedAt = first.json().data.session.closedAt
  t.ok(closedAt)
  const second = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(agent) })
  t.equal(second.statusCode, 200)
  t.equal(second.json().data.session.closedAt, closedAt, 'closing again changes nothing')
  const polled = await app.inject({ method: 'GET', url: `/api/public/chat/sessions/${s.id}/messages`, headers: { 'x-api-key': s.site.apiKey, 'x-session-token': s.token } })
  t.equal(polled.json().data.status, 'closed')
  const reply = await app.inject(replyRequest(agent, s.id, 'too late'))
  t.equal(reply.statusCode, 409)
  t.equal(reply.json().error.code, 'SESSION_CLOSED')
})
