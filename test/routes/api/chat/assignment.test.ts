import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, type Staff } from '../../../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket } from '../../../helpers/sockets.js'

const assign = (app: FastifyInstance, staff: Staff, sessionId: string, userId: unknown) =>
  app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/assign`, headers: bearer(staff), payload: { userId } })

const listIds = async (app: FastifyInstance, staff: Staff, query: string) =>
  ((await app.inject({ method: 'GET', url: `/api/chat/sessions?${query}`, headers: bearer(staff) })).json().data.sessions as { id: string }[]).map((s) => s.id)

t.test('an agent takes a chat and gives it back; the admin view says who has it, by id and name', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'help' })
  const taken = await assign(app, agent, s.id, agent.id)
  t.equal(taken.statusCode, 200)
  t.same(taken.json().data.session.assignedTo, { id: agent.id, name: 'Olena' })
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(agent) })
  t.same(detail.json().data.session.assignedTo, { id: agent.id, name: 'Olena' })
  t.equal((await assign(app, agent, s.id, agent.id)).statusCode, 200, 'taking it again changes nothing and is fine')
  const released = await assign(app, agent, s.id, null)
  t.equal(released.statusCode, 200)
  t.equal(released.json().data.session.assignedTo, null)
})

t.test('agents may assign only themselves and unassign only themselves; admins hand over to anyone who works on the site', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const otherSite = await makeSite(app)
  const olena = await makeStaff(app, 'agent', 'Olena', [site.id])
  const petro = await makeStaff(app, 'agent', 'Petro', [site.id])
  const elsewhere = await makeStaff(app, 'agent', 'Ira', [otherSite.id])
  const admin = await makeStaff(app, 'admin', 'Boss', [otherSite.id])
  const s = await makeSession(app, site)
  const forbidden = await assign(app, olena, s.id, petro.id)
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().error.code, 'FORBIDDEN')
  t.equal((await assign(app, petro, s.id, petro.id)).statusCode, 200)
  t.equal((await assign(app, olena, s.id, null)).statusCode, 403, 'an agent cannot unassign a colleague')
  const handedOver = await assign(app, admin, s.id, olena.id)
  t.equal(handedOver.statusCode, 200, 'an admin hands it over')
  t.same(handedOver.json().data.session.assignedTo, { id: olena.id, name: 'Olena' })
  t.equal((await assign(app, olena, s.id, petro.id)).statusCode, 403)
  t.equal((await assign(app, petro, s.id, petro.id)).statusCode, 200, 'an agent may take a colleague\'s chat')
  for (const userId of [elsewhere.id, admin.id, randomUUID()]) {
    const bad = await assign(app, admin, s.id, userId)
    t.equal(bad.statusCode, 400, 'not someone who works on the site')
    t.equal(bad.json().error.code, 'VALIDATION_ERROR')
  }
  await app.inject({ method: 'PATCH', url: `/api/admin/users/${petro.id}`, headers: bearer(admin), payload: { disabled: true } })
  t.equal((await assign(app, admin, s.id, petro.id)).statusCode, 400, 'nor a disabled user')
  t.equal((await assign(app, admin, s.id, null)).statusCode, 200, 'an admin unassigns anyone')
  t.equal((await assign(app, elsewhere, s.id, elsewhere.id)).statusCode, 404, 'another site\'s agent cannot see it')
})

t.test('the list filters by assignedTo=me|none|<id>', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const olena = await makeStaff(app, 'agent', 'Olena', [site.id])
  const petro = await makeStaff(app, 'agent', 'Petro', [site.id])
  const [mine, his, nobodys] = [await makeSession(app, site), await makeSession(app, site), await makeSession(app, site)]
  await assign(app, olena, mine.id, olena.id)
  await assign(app, petro, his.id, petro.id)
  t.same(await listIds(app, olena, 'assignedTo=me'), [mine.id])
  t.same(await listIds(app, petro, 'assignedTo=me'), [his.id])
  t.same(await listIds(app, olena, 'assignedTo=none'), [nobodys.id])
  t.same(await listIds(app, olena, `assignedTo=${petro.id}`), [his.id])
  t.same(await listIds(app, olena, `assignedTo=${petro.id.toUpperCase()}`), [his.id])
  t.same((await listIds(app, olena, '')).length, 3)
  for (const q of ['assignedTo=someone', 'assignedTo=', 'assignedTo=ME', `assignedTo=${petro.id}x`]) {
    const res = await app.inject({ method: 'GET', url: `/api/chat/sessions?${q}`, headers: bearer(olena) })
    t.equal(res.statusCode, 400, q)
  }
})

t.test('dashboards get session.updated with the admin view on every assignment', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const watcher = await makeStaff(app, 'admin', 'Boss')
  const socket = await openSocket(t, dashboardUrl(await listen(app), watcher))
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hello' })
  await assign(app, agent, s.id, agent.id)
  await socket.waitUntil('the assignment', () => socket.ofType('session.updated').some((f) => (f.session?.assignedTo as { id?: string } | null)?.id === agent.id))
  const updated = socket.ofType('session.updated').at(-1)?.session
  t.match(updated, { id: s.id, assignedTo: { id: agent.id, name: 'Olena' }, labels: [], lastMessage: { text: 'hello' }, unreadCount: 1 })
  const created = socket.ofType('session.created')[0]?.session
  t.match(created, { id: s.id, assignedTo: null, labels: [] }, 'session.created carries the admin view too')
})

t.test('bad assign requests are 4xx', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  for (const payload of [{}, { userId: 'me' }, { userId: 42 }, { userId: agent.id, extra: 1 }, []]) {
    const res = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/assign`, headers: bearer(agent), payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
  }
  t.equal((await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/assign`, payload: { userId: null } })).statusCode, 401)
  t.equal((await assign(app, agent, 'not-a-uuid', agent.id)).statusCode, 404)
  t.equal((await assign(app, agent, randomUUID(), agent.id)).statusCode, 404)
})

t.test('assignments through the API are in the audit log: who assigned which session to whom', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Iryna')
  const agent = await makeStaff(app, 'agent', 'Olena', [site.id])
  const s = await makeSession(app, site)
  t.equal((await assign(app, agent, s.id, agent.id)).statusCode, 200)
  t.equal((await assign(app, admin, s.id, null)).statusCode, 200)
  t.equal((await assign(app, admin, s.id, null)).statusCode, 200, 'no change: nothing to record')
  const res = await app.inject({ method: 'GET', url: '/api/admin/audit?limit=200', headers: bearer(admin) })
  const entries = (res.json().data.entries as { action: string; target: string; actor: { id: string } | null; details: Record<string, unknown> }[])
    .filter((e) => e.action === 'session.assigned' && e.target === s.id)
  t.match(entries, [
    { actor: { id: admin.id }, details: { assignedTo: null } },
    { actor: { id: agent.id }, details: { assignedTo: agent.id } },
  ], 'newest first')
  t.equal(entries.length, 2)
})

t.test('an agent taken off a site gives back its open chats there, a disabled one all of them; dashboards are told, closed chats keep their history', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const siteA = await makeSite(app)
  const siteB = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena', [siteA.id, siteB.id])
  const onA = await makeSession(app, siteA)
  const closedOnA = await makeSession(app, siteA)
  const onB = await makeSession(app, siteB)
  for (const s of [onA, closedOnA, onB]) t.equal((await assign(app, agent, s.id, agent.id)).statusCode, 200)
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${closedOnA.id}/close`, headers: bearer(admin) })
  const dashboard = await openSocket(t, dashboardUrl(await listen(app), admin))
  const assignedTo = async (id: string) => (await app.inject({ method: 'GET', url: `/api/chat/sessions/${id}`, headers: bearer(admin) })).json().data.session.assignedTo?.id ?? null

  t.equal((await app.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { siteIds: [siteB.id] } })).statusCode, 200)
  t.equal(await assignedTo(onA.id), null, 'an open chat of a site the agent left waits for someone who can answer it')
  t.equal(await assignedTo(closedOnA.id), agent.id, 'a closed chat keeps who handled it')
  t.equal(await assignedTo(onB.id), agent.id, 'a chat of a site the agent still works on stays theirs')
  await dashboard.waitUntil('session.updated for the released chat', () => dashboard.ofType('session.updated').some((f) => f.session?.id === onA.id && f.session.assignedTo === null))

  t.equal((await app.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { disabled: true } })).statusCode, 200)
  t.equal(await assignedTo(onB.id), null, 'a disabled agent gives back every open chat')
  t.same(await listIds(app, admin, `assignedTo=${agent.id}`), [closedOnA.id])
})
