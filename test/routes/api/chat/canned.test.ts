import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeSite, makeStaff, type Staff } from '../../../helpers/fixtures.js'

const url = '/api/chat/canned'

const create = (app: FastifyInstance, staff: Staff, payload: Record<string, unknown>) => app.inject({ method: 'POST', url, headers: bearer(staff), payload })

async function shortcuts(app: FastifyInstance, staff: Staff, query = '') {
  const res = await app.inject({ method: 'GET', url: `${url}${query}`, headers: bearer(staff) })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
  return (res.json().data.canned as { shortcut: string; siteId: string | null }[]).map((c) => `${c.shortcut}@${c.siteId === null ? 'shared' : c.siteId.slice(0, 4)}`)
}

t.test('admins add, change and delete canned responses; shared ones and per site', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const admin = await makeStaff(app, 'admin')
  const site = await makeSite(app)
  const hello = await create(app, admin, { shortcut: 'hello', text: 'Hi {{visitor.name}}, I am {{agent.name}}. How can I help?', siteId: null })
  t.equal(hello.statusCode, 201)
  t.match(hello.json().data.canned, { shortcut: 'hello', siteId: null, text: 'Hi {{visitor.name}}, I am {{agent.name}}. How can I help?' })
  const shipping = await create(app, admin, { shortcut: 'shipping', text: 'We ship within 2 days.', siteId: site.id })
  t.equal(shipping.statusCode, 201)
  t.equal((await create(app, admin, { shortcut: 'no-site', text: 'shared by default' })).json().data.canned.siteId, null, 'siteId may be left out: shared')
  const id = shipping.json().data.canned.id
  const patched = await app.inject({ method: 'PATCH', url: `${url}/${id}`, headers: bearer(admin), payload: { text: 'We ship within 1 day.', shortcut: 'ship' } })
  t.equal(patched.statusCode, 200)
  t.match(patched.json().data.canned, { shortcut: 'ship', text: 'We ship within 1 day.', siteId: site.id })
  t.same(await shortcuts(app, admin), ['hello@shared', 'no-site@shared', `ship@${site.id.slice(0, 4)}`])
  const deleted = await app.inject({ method: 'DELETE', url: `${url}/${id}`, headers: bearer(admin) })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  t.equal((await app.inject({ method: 'DELETE', url: `${url}/${id}`, headers: bearer(admin) })).statusCode, 404)
  t.same(await shortcuts(app, admin), ['hello@shared', 'no-site@shared'])
})

t.test('a shortcut is unique within its scope: 409 CONFLICT; the same shortcut in another scope is fine', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const [a, b] = [await makeSite(app), await makeSite(app)]
  t.equal((await create(app, admin, { shortcut: 'refund', text: 'shared', siteId: null })).statusCode, 201)
  t.equal((await create(app, admin, { shortcut: 'refund', text: 'on A', siteId: a.id })).statusCode, 201)
  t.equal((await create(app, admin, { shortcut: 'refund', text: 'on B', siteId: b.id })).statusCode, 201)
  for (const siteId of [null, a.id]) {
    const taken = await create(app, admin, { shortcut: 'refund', text: 'again', siteId })
    t.equal(taken.statusCode, 409)
    t.equal(taken.json().error.code, 'CONFLICT')
  }
  const other = (await create(app, admin, { shortcut: 'other', text: 'x', siteId: a.id })).json().data.canned.id
  const clash = await app.inject({ method: 'PATCH', url: `${url}/${other}`, headers: bearer(admin), payload: { shortcut: 'refund' } })
  t.equal(clash.statusCode, 409, 'renaming onto a taken shortcut')
  const moved = await app.inject({ method: 'PATCH', url: `${url}/${other}`, headers: bearer(admin), payload: { siteId: null, shortcut: 'refund' } })
  t.equal(moved.statusCode, 409, 'moving into a scope where it is taken')
})

t.test('agents list and use them, for the sites they see; they cannot manage them', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const admin = await makeStaff(app, 'admin')
  const [a, b] = [await makeSite(app), await makeSite(app)]
  const agent = await makeStaff(app, 'agent', 'Olena', [a.id])
  await create(app, admin, { shortcut: 'hi', text: 'shared', siteId: null })
  await create(app, admin, { shortcut: 'hours-a', text: 'A opens at 9', siteId: a.id })
  await create(app, admin, { shortcut: 'hours-b', text: 'B opens at 10', siteId: b.id })
  t.same(await shortcuts(app, agent), ['hi@shared', `hours-a@${a.id.slice(0, 4)}`], 'shared and the agent\'s sites')
  t.same(await shortcuts(app, agent, `?siteId=${a.id}`), ['hi@shared', `hours-a@${a.id.slice(0, 4)}`])
  t.same(await shortcuts(app, agent, `?siteId=${a.id.toUpperCase()}`), ['hi@shared', `hours-a@${a.id.slice(0, 4)}`], 'a site id in upper case is the same site')
  t.same(await shortcuts(app, admin, `?siteId=${b.id}`), ['hi@shared', `hours-b@${b.id.slice(0, 4)}`], 'one site: shared and that site\'s')
  for (const siteId of [b.id, randomUUID()]) {
    const res = await app.inject({ method: 'GET', url: `${url}?siteId=${siteId}`, headers: bearer(agent) })
    t.equal(res.statusCode, 404, 'a site the agent does not see is as if missing')
  }
  const anyId = (await app.inject({ method: 'GET', url, headers: bearer(admin) })).json().data.canned[0].id
  for (const req of [
    { method: 'POST' as const, url, payload: { shortcut: 'x', text: 'y' } },
    { method: 'PATCH' as const, url: `${url}/${anyId}`, payload: { text: 'y' } },
    { method: 'DELETE' as const, url: `${url}/${anyId}` },
  ]) {
    t.equal((await app.inject({ ...req, headers: bearer(agent) })).statusCode, 403, `${req.method} as an agent`)
    t.equal((await app.inject(req)).statusCode, 401, `${req.method} without a token`)
  }
  t.equal((await app.inject({ method: 'GET', url })).statusCode, 401)
})

t.test('shortcut and text rules: upper case is refused, not folded; bad input is 400; unknown ids 404', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  for (const payload of [
    { shortcut: 'Hello', text: 'x' }, { shortcut: 'HELLO', text: 'x' }, { shortcut: '', text: 'x' }, { shortcut: 'a'.repeat(33), text: 'x' },
    { shortcut: 'with space', text: 'x' }, { shortcut: 'dots.no', text: 'x' }, { shortcut: 'ok', text: '' }, { shortcut: 'ok', text: '  ' },
    { shortcut: 'ok', text: 'x'.repeat(4001) }, { shortcut: 'ok', text: 'x', siteId: 'nope' }, { shortcut: 'ok', text: 'x', siteId: randomUUID() },
    { shortcut: 'ok', text: 'x', extra: true }, { text: 'x' },
  ]) {
    const res = await create(app, admin, payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  t.equal((await create(app, admin, { shortcut: 'a'.repeat(32), text: 'x' })).statusCode, 201, '32 characters')
  t.equal((await create(app, admin, { shortcut: 'a_b-1', text: 'x' })).statusCode, 201)
  const id = (await create(app, admin, { shortcut: 'z', text: 'x' })).json().data.canned.id
  for (const payload of [{}, { shortcut: 'Z' }, { text: '' }, { siteId: randomUUID() }]) {
    t.equal((await app.inject({ method: 'PATCH', url: `${url}/${id}`, headers: bearer(admin), payload })).statusCode, 400, JSON.stringify(payload))
  }
  for (const bad of [randomUUID(), 'nope']) {
    t.equal((await app.inject({ method: 'PATCH', url: `${url}/${bad}`, headers: bearer(admin), payload: { text: 'x' } })).statusCode, 404)
    t.equal((await app.inject({ method: 'DELETE', url: `${url}/${bad}`, headers: bearer(admin) })).statusCode, 404)
  }
  t.equal((await app.inject({ method: 'GET', url: `${url}?siteId=nope`, headers: bearer(admin) })).statusCode, 400)
})
