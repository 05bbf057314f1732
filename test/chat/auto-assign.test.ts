import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, freshDatabase } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, startSessionRequest, uniq, type Staff, type TestSite } from '../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket } from '../helpers/sockets.js'
import { waitFor } from '../helpers/wait.js'

/** The contract: a waiting chat is placed within 5 s of an agent freeing up or coming online. */
const PLACED_WITHIN_MS = 5_000

async function enableAutoAssign(app: FastifyInstance, admin: Staff, site: TestSite, maxOpenPerAgent: number) {
  const res = await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(admin), payload: { autoAssign: { enabled: true, maxOpenPerAgent } } })
  if (res.statusCode !== 200) throw new Error(`PATCH site: ${res.statusCode} ${res.body}`)
  return res.json().data.site
}

async function openLoad(app: FastifyInstance, admin: Staff): Promise<Map<string | null, number>> {
  const res = await app.inject({ method: 'GET', url: '/api/chat/sessions?status=open&limit=100', headers: bearer(admin) })
  const load = new Map<string | null, number>()
  for (const s of res.json().data.sessions as { assignedTo: { id: string } | null }[]) {
    const key = s.assignedTo?.id ?? null
    load.set(key, (load.get(key) ?? 0) + 1)
  }
  return load
}

const onlineCount = async (app: FastifyInstance, site: TestSite) =>
  (await app.inject({ method: 'GET', url: '/api/public/chat/availability', headers: { 'x-api-key': site.apiKey } })).json().data.agentsOnline as number

t.test('50 chats created at once on two instances, 5 agents online, cap 3: each agent gets exactly 3, none twice; freed and new agents are filled within 5 s', async (t) => {
  const databaseUrl = await freshDatabase()
  const a = await buildTestApp(t, { databaseUrl })
  const b = await buildTestApp(t, { databaseUrl })
  const [baseA, baseB] = [await listen(a), await listen(b)]
  const site = await makeSite(a)
  const admin = await makeStaff(a, 'admin', 'Boss')
  t.match(await enableAutoAssign(a, admin, site, 3), { autoAssign: { enabled: true, maxOpenPerAgent: 3 } })
  const agents = await Promise.all([1, 2, 3, 4, 5].map((i) => makeStaff(a, 'agent', `Agent ${i}`, [site.id])))
  for (const [i, agent] of agents.entries()) await openSocket(t, dashboardUrl(i < 3 ? baseA : baseB, agent))
  await waitFor('both instances to see the 5 agents', async () => (await onlineCount(a, site)) === 5 && (await onlineCount(b, site)) === 5)
  const watch = await openSocket(t, dashboardUrl(baseB, admin))

  const created = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    (i % 2 ? a : b).inject(startSessionRequest(site, { userSessionId: uniq('visitor-'), firstMessage: `question ${i}` }))))
  t.same(created.map((r) => r.statusCode), Array(50).fill(201))
  const load = await openLoad(a, admin)
  t.same(agents.map((agent) => load.get(agent.id)), [3, 3, 3, 3, 3], 'every agent at the cap, none past it')
  t.equal(load.get(null), 35, 'the rest wait')
  await watch.waitUntil('15 assignments on the admin socket', () => new Set(watch.ofType('session.updated').filter((f) => f.session?.assignedTo).map((f) => f.session?.id)).size === 15)
  const assigneesOf = new Map<string, Set<string>>()
  for (const f of watch.ofType('session.updated')) {
    const id = String(f.session?.id)
    const to = (f.session?.assignedTo as { id: string } | null)?.id
    if (to) assigneesOf.set(id, (assigneesOf.get(id) ?? new Set()).add(to))
  }
  t.ok([...assigneesOf.values()].every((set) => set.size === 1), 'no chat was assigned twice')

  // an agent frees up: two closed, two waiting chats are theirs within 5 s
  const first = agents[0] as Staff
  const mine = (await a.inject({ method: 'GET', url: '/api/chat/sessions?assignedTo=me&status=open', headers: bearer(first) })).json().data.sessions as { id: string }[]
  for (const s of mine.slice(0, 2)) await b.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(first) })
  await waitFor('the freed agent to be filled again', async () => (await openLoad(a, admin)).get(first.id) === 3, PLACED_WITHIN_MS)
  // a sixth agent comes online on instance B: three chats within 5 s
  const late = await makeStaff(a, 'agent', 'Late', [site.id])
  await openSocket(t, dashboardUrl(baseB, late))
  await waitFor('the new agent to get three', async () => (await openLoad(a, admin)).get(late.id) === 3, PLACED_WITHIN_MS)
  const after = await openLoad(b, admin)
  t.ok([...agents, late].every((agent) => after.get(agent.id) === 3), 'nobody past the cap')
  t.equal(after.get(null), 48 - 18, 'two closed, eighteen placed')
})

t.test('the next chat goes to the agent with the fewest open chats, then to whoever waited longest since their last one', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const base = await listen(app)
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin')
  await enableAutoAssign(app, admin, site, 5)
  const olena = await makeStaff(app, 'agent', 'Olena', [site.id])
  const petro = await makeStaff(app, 'agent', 'Petro', [site.id])
  const elsewhere = await makeStaff(app, 'agent', 'Ira', [(await makeSite(app)).id])
  for (const agent of [olena, petro, elsewhere]) await openSocket(t, dashboardUrl(base, agent))
  await waitFor('two agents of the site online', async () => (await onlineCount(app, site)) === 2)
  const assignee = async () => {
    const s = await makeSession(app, site)
    const res = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })
    return { id: s.id, to: res.json().data.session.assignedTo?.id as string }
  }
  const first = await assignee()
  const second = await assignee()
  t.same(new Set([first.to, second.to]), new Set([olena.id, petro.id]), 'fewest open first: one each')
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${first.id}/close`, headers: bearer(admin) })
  await app.inject({ method: 'POST', url: `/api/chat/sessions/${second.id}/close`, headers: bearer(admin) })
  const third = await assignee()
  t.equal(third.to, first.to, 'both free: the one whose last assignment is older')
  const fourth = await assignee()
  t.equal(fourth.to, second.to)
})

t.test('nobody online: a new chat waits, and is placed within 5 s of an agent coming online or back from away', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const base = await listen(app)
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent', 'Olena', [site.id])
  await enableAutoAssign(app, admin, site, 2)
  const s = await makeSession(app, site, { firstMessage: 'anyone?' })
  const assignedTo = async (id: string) => (await app.inject({ method: 'GET', url: `/api/chat/sessions/${id}`, headers: bearer(admin) })).json().data.session.assignedTo?.id
  t.equal(await assignedTo(s.id), undefined, 'unassigned while nobody is online')
  await app.inject({ method: 'PATCH', url: '/api/auth/me', headers: bearer(agent), payload: { availability: 'away' } })
  await openSocket(t, dashboardUrl(base, agent))
  const later = await makeSession(app, site)
  t.equal(await assignedTo(later.id), undefined, 'an away agent gets nothing')
  await app.inject({ method: 'PATCH', url: '/api/auth/me', headers: bearer(agent), payload: { availability: 'online' } })
  await waitFor('both chats placed', async () => (await assignedTo(s.id)) === agent.id && (await assignedTo(later.id)) === agent.id, PLACED_WITHIN_MS)
  t.pass('placed')
})

t.test('sites without auto-assignment leave chats alone; the settings are validated', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin')
  const agent = await makeStaff(app, 'agent', 'Olena', [site.id])
  await openSocket(t, dashboardUrl(base, agent))
  await waitFor('online', async () => (await onlineCount(app, site)) === 1)
  const s = await makeSession(app, site)
  const detail = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })
  t.equal(detail.json().data.session.assignedTo, null)
  const site2 = (await app.inject({ method: 'GET', url: `/api/admin/sites/${site.id}`, headers: bearer(admin) })).json().data.site
  t.same(site2.autoAssign, { enabled: false, maxOpenPerAgent: 5 }, 'off by default, cap 5')
  for (const autoAssign of [{}, { enabled: 'yes' }, { enabled: true, maxOpenPerAgent: 0 }, { enabled: true, maxOpenPerAgent: 1001 }, { enabled: true, cap: 3 }, null]) {
    const res = await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(admin), payload: { autoAssign } })
    t.equal(res.statusCode, 400, JSON.stringify(autoAssign))
  }
  t.equal((await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(agent), payload: { autoAssign: { enabled: true } } })).statusCode, 403)
  await enableAutoAssign(app, admin, site, 1)
  await waitFor('the waiting chat placed once the site turns it on', async () =>
    (await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })).json().data.session.assignedTo?.id === agent.id, PLACED_WITHIN_MS)
  t.pass('placed')
})
