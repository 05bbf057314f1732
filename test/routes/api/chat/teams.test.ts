import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest, type Staff } from '../../../helpers/fixtures.js'
import { png } from '../../../helpers/files.js'
import { multipartBody } from '../../../helpers/multipart.js'
import { dashboardUrl, listen, openSocket } from '../../../helpers/sockets.js'

const uploadOf = (headers: Record<string, string>) => {
  const body = multipartBody(png(), 'pixel.png')
  return { headers: { ...headers, ...body.headers }, payload: body.payload }
}

/** Every staff route on one session, as an agent would call it. */
function sessionRequests(staff: Staff, id: string): InjectOptions[] {
  const url = `/api/chat/sessions/${id}`
  const headers = bearer(staff)
  return [
    { method: 'GET', url, headers },
    { method: 'POST', url: `${url}/messages`, headers, payload: { text: 'hello from another team' } },
    { method: 'POST', url: `${url}/read`, headers },
    { method: 'POST', url: `${url}/close`, headers },
    { method: 'POST', url: `${url}/assign`, headers, payload: { userId: staff.id } },
    { method: 'POST', url: `${url}/notes`, headers, payload: { text: 'a note' } },
    { method: 'PUT', url: `${url}/labels`, headers, payload: { labels: ['vip'] } },
    { method: 'GET', url: `${url}/export`, headers },
    { method: 'POST', url: `${url}/attachments`, ...uploadOf(headers) },
  ]
}

async function twoSites(app: FastifyInstance) {
  const siteA = await makeSite(app)
  const siteB = await makeSite(app)
  const onA = await makeSession(app, siteA, { name: 'Anna Alpha', firstMessage: 'alpha question' })
  const onB = await makeSession(app, siteB, { name: 'Bohdan Beta', firstMessage: 'beta question' })
  return { siteA, siteB, onA, onB }
}

t.test('an agent of site A gets a 404 for every route on a session of site B, exactly as for a missing one, and it is left unchanged', async (t) => {
  const app = await buildTestApp(t)
  const { siteA, onB } = await twoSites(app)
  const agent = await makeStaff(app, 'agent', 'Alla', [siteA.id])
  const admin = await makeStaff(app, 'admin')
  for (const [b, missing] of sessionRequests(agent, onB.id).map((req, i) => [req, sessionRequests(agent, randomUUID())[i]] as const)) {
    const res = await app.inject(b)
    const gone = await app.inject(missing as InjectOptions)
    t.equal(res.statusCode, 404, `${b.method} ${b.url}`)
    t.same(res.json(), gone.json(), `${b.method} ${b.url}: the same answer as a missing session`)
  }
  const seen = await app.inject({ method: 'GET', url: `/api/chat/sessions/${onB.id}`, headers: bearer(admin) })
  t.match(seen.json().data, { session: { status: 'open', assignedTo: null, labels: [], unreadCount: 1 }, messages: [{ seq: 1 }], notes: [] }, 'nothing was written')
  t.equal(seen.json().data.messages.length, 1)
})

t.test('an agent lists, searches and counts only their sites; an admin and an agent of all sites see everything', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const { siteA, siteB, onA, onB } = await twoSites(app)
  const alla = await makeStaff(app, 'agent', 'Alla', [siteA.id])
  const everywhere = await makeStaff(app, 'agent', 'Vira')
  const admin = await makeStaff(app, 'admin', 'Boss', [siteB.id])
  const ids = async (staff: Staff, query = '') => {
    const res = await app.inject({ method: 'GET', url: `/api/chat/sessions?${query}`, headers: bearer(staff) })
    return { ids: res.json().data.sessions.map((s: { id: string }) => s.id) as string[], total: res.json().data.total as number }
  }
  t.same(await ids(alla), { ids: [onA.id], total: 1 })
  t.same(await ids(alla, 'search=beta'), { ids: [], total: 0 }, 'search stays within the sites')
  t.same(await ids(alla, `siteId=${siteB.id}`), { ids: [], total: 0 }, 'asking for another site finds nothing')
  t.same((await ids(everywhere)).ids.sort(), [onA.id, onB.id].sort())
  t.same((await ids(admin)).ids.sort(), [onA.id, onB.id].sort(), 'admins see every site whatever their siteIds')
  const stats = async (staff: Staff) => (await app.inject({ method: 'GET', url: '/api/chat/stats', headers: bearer(staff) })).json().data
  t.match(await stats(alla), { totalSessions: 1, openSessions: 1, totalMessages: 1, visitorMessages: 1, unansweredSessions: 1, sessionsToday: 1 })
  t.match(await stats(everywhere), { totalSessions: 2, totalMessages: 2 })
  t.equal((await stats(alla)).sessionsPerDay.reduce((n: number, d: { count: number }) => n + d.count, 0), 1)
})

t.test('a reply to a visible session is still one statement and works; the agent of another site cannot reply', async (t) => {
  const app = await buildTestApp(t)
  const { siteA, onA, onB } = await twoSites(app)
  const alla = await makeStaff(app, 'agent', 'Alla', [siteA.id])
  t.equal((await app.inject(replyRequest(alla, onA.id, 'hi Anna'))).statusCode, 201)
  t.equal((await app.inject(replyRequest(alla, onB.id, 'hi Bohdan'))).statusCode, 404)
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${onA.id}/close`, headers: bearer(alla) })
  t.equal((await app.inject(replyRequest(alla, onA.id, 'still there?'))).statusCode, 409, 'a closed visible session is 409, not 404')
})

t.test('dashboard sockets get events of their sites only', async (t) => {
  const app = await buildTestApp(t)
  const siteA = await makeSite(app)
  const siteB = await makeSite(app)
  const alla = await makeStaff(app, 'agent', 'Alla', [siteA.id])
  const admin = await makeStaff(app, 'admin')
  const base = await listen(app)
  const allaSocket = await openSocket(t, dashboardUrl(base, alla))
  const adminSocket = await openSocket(t, dashboardUrl(base, admin))
  const onB = await makeSession(app, siteB, { firstMessage: 'beta secret' })
  await app.inject(sendRequest(onB, { text: 'beta again' }))
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${onB.id}/notes`, headers: bearer(admin), payload: { text: 'beta note' } })
  await app.inject({ method: 'PUT', url: `/api/chat/sessions/${onB.id}/labels`, headers: bearer(admin), payload: { labels: ['b'] } })
  const onA = await makeSession(app, siteA, { firstMessage: 'alpha hello' })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${onA.id}/notes`, headers: bearer(admin), payload: { text: 'alpha note' } })
  await allaSocket.waitUntil('site A events', () => allaSocket.frames.some((f) => f.type === 'note.created'))
  await adminSocket.waitUntil('every event', () => adminSocket.ofType('note.created').length === 2 && adminSocket.ofType('message.created').length === 3)
  const sessionsIn = (frames: typeof allaSocket.frames) => new Set(frames.map((f) => f.session?.id ?? f.message?.sessionId ?? (f as { note?: { sessionId: string } }).note?.sessionId))
  t.same([...sessionsIn(allaSocket.frames)], [onA.id], 'the agent of site A heard only of site A\'s session')
  t.same([...sessionsIn(adminSocket.frames)].sort(), [onA.id, onB.id].sort())
  t.notMatch(JSON.stringify(allaSocket.frames), /beta/)
})

t.test('membership set by an admin takes effect at once: REST and the open dashboard socket', async (t) => {
  const app = await buildTestApp(t)
  const { siteA, siteB, onB } = await twoSites(app)
  const admin = await makeStaff(app, 'admin')
  const created = await app.inject({ method: 'POST', url: '/api/admin/users', headers: bearer(admin), payload: { email: `${randomUUID()}@example.com`, name: 'Olha', password: 'password123', role: 'agent', siteIds: [siteA.id] } })
  t.equal(created.statusCode, 201)
  t.match(created.json().data.user, { siteIds: [siteA.id], availability: 'online', online: false })
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: created.json().data.user.email, password: 'password123' } })
  const olha: Staff = { id: created.json().data.user.id, token: login.json().data.token, email: '', password: '' }
  const socket = await openSocket(t, dashboardUrl(await listen(app), olha))
  t.equal((await app.inject({ method: 'GET', url: `/api/chat/sessions/${onB.id}`, headers: bearer(olha) })).statusCode, 404)

  const patched = await app.inject({ method: 'PATCH', url: `/api/admin/users/${olha.id}`, headers: bearer(admin), payload: { siteIds: [siteB.id, siteA.id, siteA.id] } })
  t.equal(patched.statusCode, 200)
  t.same(patched.json().data.user.siteIds, [siteA.id, siteB.id].sort(), 'unique, in a stable order')
  t.equal((await app.inject({ method: 'GET', url: `/api/chat/sessions/${onB.id}`, headers: bearer(olha) })).statusCode, 200, 'the next request sees it')
  await socket.waitUntil('user.updated and resync', () => socket.ofType('user.updated').length === 1 && socket.ofType('resync').length === 1)
  await app.inject(sendRequest(onB, { text: 'now you see me' }))
  await socket.waitUntil('site B messages', () => socket.ofType('message.created').some((f) => f.message?.text === 'now you see me'))

  const toNull = await app.inject({ method: 'PATCH', url: `/api/admin/users/${olha.id}`, headers: bearer(admin), payload: { siteIds: null } })
  t.equal(toNull.json().data.user.siteIds, null, 'null: every site')
  const none = await app.inject({ method: 'PATCH', url: `/api/admin/users/${olha.id}`, headers: bearer(admin), payload: { siteIds: [] } })
  t.same(none.json().data.user.siteIds, [], 'an empty list: no site')
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(olha) })).json().data.total, 0)
})

t.test('siteIds must name existing sites and be well formed', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app)
  for (const siteIds of [[randomUUID()], ['not-a-uuid'], 'all', [1], Array(1001).fill(randomUUID())]) {
    const patch = await app.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { siteIds } })
    t.equal(patch.statusCode, 400, `PATCH ${JSON.stringify(siteIds).slice(0, 60)}`)
    t.equal(patch.json().error.code, 'VALIDATION_ERROR')
    const create = await app.inject({ method: 'POST', url: '/api/admin/users', headers: bearer(admin), payload: { email: `${randomUUID()}@example.com`, name: 'X', password: 'password123', role: 'agent', siteIds } })
    t.equal(create.statusCode, 400, `POST ${JSON.stringify(siteIds).slice(0, 60)}`)
  }
  t.equal((await app.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(agent), payload: { siteIds: null } })).statusCode, 403, 'agents cannot change membership')
})
