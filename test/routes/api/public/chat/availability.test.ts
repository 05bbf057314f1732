import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../../../../helpers/app.js'
import { bearer, makeSite, makeStaff, type Staff, type TestSite } from '../../../../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket } from '../../../../helpers/sockets.js'
import { waitFor } from '../../../../helpers/wait.js'

/** The contract's bounds, with the default settings (PRESENCE_HEARTBEAT_MS 5 s). */
const SHOWS_WITHIN_MS = 2_000
const INSTANCE_DEATH_WITHIN_MS = 60_000

async function availability(app: FastifyInstance, site: TestSite) {
  const res = await app.inject({ method: 'GET', url: '/api/public/chat/availability', headers: { 'x-api-key': site.apiKey } })
  if (res.statusCode !== 200) throw new Error(`availability: ${res.statusCode} ${res.body}`)
  return res.json().data as { online: boolean; agentsOnline: number }
}

const until = (app: FastifyInstance, site: TestSite, what: string, want: number, timeoutMs = SHOWS_WITHIN_MS) =>
  waitFor(`${what} (agentsOnline ${want})`, async () => (await availability(app, site)).agentsOnline === want, timeoutMs)

const setAvailability = (app: FastifyInstance, staff: Staff, availability: string) =>
  app.inject({ method: 'PATCH', url: '/api/auth/me', headers: bearer(staff), payload: { availability } })

// two instances on the file's database for the whole file: each test has its own sites, users and sockets
const a = await buildTestApp(t)
const b = await buildTestApp(t)

t.test('an agent with a dashboard open on instance A makes their site online on instance B; away and closing take it offline', async (t) => {
  const shop = await makeSite(a)
  const other = await makeSite(a)
  const agent = await makeStaff(a, 'agent', 'Olena', [shop.id])
  t.same(await availability(b, shop), { online: false, agentsOnline: 0 }, 'nobody yet')

  const socket = await openSocket(t, dashboardUrl(await listen(a), agent))
  const opened = Date.now()
  await until(b, shop, 'online on B', 1)
  t.ok(Date.now() - opened < SHOWS_WITHIN_MS, 'within 2 s of connecting')
  t.same(await availability(b, shop), { online: true, agentsOnline: 1 })
  t.same(await availability(b, other), { online: false, agentsOnline: 0 }, 'not on a site the agent does not work on')
  const me = await b.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(agent) })
  t.match(me.json().data.user, { availability: 'online', online: true, siteIds: [shop.id] }, 'users carry availability and live online')

  const away = await setAvailability(b, agent, 'away')
  t.equal(away.statusCode, 200)
  t.match(away.json().data.user, { availability: 'away' })
  await until(b, shop, 'away on B', 0)
  await until(a, shop, 'away on A', 0)
  t.match((await a.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(agent) })).json().data.user, { availability: 'away', online: false })
  await socket.waitUntil('user.updated on the agent\'s own socket', () => socket.ofType('user.updated').some((f) => (f as { user?: { availability?: string } }).user?.availability === 'away'))

  t.equal((await setAvailability(a, agent, 'online')).statusCode, 200)
  await until(b, shop, 'online again', 1)
  socket.ws.close()
  const closed = Date.now()
  await until(b, shop, 'offline after the last socket closed', 0)
  t.ok(Date.now() - closed < SHOWS_WITHIN_MS, 'within 2 s of the close')
})

t.test('the answer to an availability change made through another instance than the socket\'s says at once whether the user is online', async (t) => {
  const shop = await makeSite(a)
  const admin = await makeStaff(a, 'admin')
  const agent = await makeStaff(a, 'agent', 'Olena', [shop.id])
  await openSocket(t, dashboardUrl(await listen(a), agent))
  await until(b, shop, 'online on B', 1)
  t.match((await setAvailability(b, agent, 'away')).json().data.user, { availability: 'away', online: false })
  // B has heard A say "away" before the next change: A is the one to say "online" again, a moment after
  await until(b, shop, 'away on B', 0)
  t.match((await setAvailability(b, agent, 'online')).json().data.user, { availability: 'online', online: true }, 'PATCH /api/auth/me')
  const byAdmin = await b.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { availability: 'away' } })
  t.match(byAdmin.json().data.user, { availability: 'away', online: false })
  await until(b, shop, 'away again on B', 0)
  const back = await b.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { availability: 'online' } })
  t.match(back.json().data.user, { availability: 'online', online: true }, 'PATCH /api/admin/users/:id')
})

t.test('every user who works on the site counts, admins included; a second socket or instance does not count twice', async (t) => {
  const shop = await makeSite(a)
  const admin = await makeStaff(a, 'admin', 'Boss')
  const agent = await makeStaff(a, 'agent', 'Olena')
  const [baseA, baseB] = [await listen(a), await listen(b)]
  await openSocket(t, dashboardUrl(baseA, admin))
  await openSocket(t, dashboardUrl(baseA, agent))
  await openSocket(t, dashboardUrl(baseB, agent))
  await until(b, shop, 'two users', 2)
  await until(a, shop, 'two users on A too', 2)
  const users = (await b.inject({ method: 'GET', url: '/api/admin/users', headers: bearer(admin) })).json().data.users as { id: string; online: boolean }[]
  t.same(users.filter((u) => u.online).map((u) => u.id).sort(), [admin.id, agent.id].sort())
  const disabled = await a.inject({ method: 'PATCH', url: `/api/admin/users/${agent.id}`, headers: bearer(admin), payload: { disabled: true } })
  t.equal(disabled.statusCode, 200)
  await until(b, shop, 'a disabled user is not online', 1)
})

t.test('an instance that dies without a word: its agents go offline on the others within 60 s', async (t) => {
  const dying = await buildTestApp(t)
  const survivor = a
  const shop = await makeSite(survivor)
  const agent = await makeStaff(survivor, 'agent', 'Olena', [shop.id])
  await openSocket(t, dashboardUrl(await listen(dying), agent))
  await until(survivor, shop, 'online', 1)
  // what the others see of a dead instance: it says nothing any more (no offline, no heartbeat)
  dying.bus.publish = () => {}
  const died = Date.now()
  await until(survivor, shop, 'expired', 0, INSTANCE_DEATH_WITHIN_MS)
  t.ok(Date.now() - died < INSTANCE_DEATH_WITHIN_MS, `offline ${Math.round((Date.now() - died) / 1000)} s after the instance went silent`)
})

t.test('availability needs a site key; PATCH /api/auth/me takes only a valid availability', async (t) => {
  const app = b
  const agent = await makeStaff(app)
  for (const headers of [{}, { 'x-api-key': 'pk_unknown' }]) {
    const res = await app.inject({ method: 'GET', url: '/api/public/chat/availability', headers })
    t.equal(res.statusCode, 401)
    t.equal(res.json().error.code, 'UNAUTHORIZED')
  }
  for (const payload of [{}, { availability: 'busy' }, { availability: null }, { availability: 'away', name: 'x' }, { role: 'admin' }]) {
    const res = await app.inject({ method: 'PATCH', url: '/api/auth/me', headers: bearer(agent), payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  t.equal((await app.inject({ method: 'PATCH', url: '/api/auth/me', payload: { availability: 'away' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(agent) })).json().data.user.availability, 'online', 'a new user starts online')
})
