import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, freshDatabase } from '../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, type Staff } from '../../../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket } from '../../../helpers/sockets.js'

const putLabels = (app: FastifyInstance, staff: Staff, id: string, labels: unknown) =>
  app.inject({ method: 'PUT', url: `/api/chat/sessions/${id}/labels`, headers: bearer(staff), payload: { labels } })

t.test('labels are stored sorted, unique and lower-case; the list shows and filters by them; dashboards hear of it', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const agent = await makeStaff(app)
  const site = await makeSite(app)
  const socket = await openSocket(t, dashboardUrl(await listen(app), agent))
  const [one, two] = [await makeSession(app, site), await makeSession(app, site)]
  const res = await putLabels(app, agent, one.id, ['VIP', 'billing', 'vip', 'Доставка', 'follow_up-2'])
  t.equal(res.statusCode, 200)
  t.same(res.json().data.session.labels, ['billing', 'follow_up-2', 'vip', 'доставка'])
  await putLabels(app, agent, two.id, ['billing'])
  const list = async (q: string) => ((await app.inject({ method: 'GET', url: `/api/chat/sessions?${q}`, headers: bearer(agent) })).json().data.sessions as { id: string; labels: string[] }[])
  t.same((await list('label=billing')).map((s) => s.id).sort(), [one.id, two.id].sort())
  t.same((await list('label=VIP')).map((s) => s.id), [one.id], 'the filter is case-insensitive')
  t.same((await list('label=%D0%B4%D0%BE%D1%81%D1%82%D0%B0%D0%B2%D0%BA%D0%B0')).map((s) => s.id), [one.id], 'letters of any script')
  t.same((await list('label=nothing')), [])
  t.same((await list('')).find((s) => s.id === one.id)?.labels, ['billing', 'follow_up-2', 'vip', 'доставка'], 'labels in the session list')
  const inUse = await app.inject({ method: 'GET', url: '/api/chat/labels', headers: bearer(agent) })
  t.same(inUse.json().data.labels[0], { name: 'billing', count: 2 }, 'labels in use, most used first')
  t.equal(inUse.json().data.labels.length, 4)
  await socket.waitUntil('session.updated with labels', () => socket.ofType('session.updated').some((f) => JSON.stringify(f.session?.labels) === '["billing"]'))
  t.same((await putLabels(app, agent, one.id, [])).json().data.session.labels, [], 'an empty list removes them all')
})

t.test('label rules: 1–32 letters, digits, _ or -, at most 20; anything else is a 400 naming it', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  for (const labels of [[''], ['a b'], ['a'.repeat(33)], ['tag!'], ['<b>'], ['x.y'], Array.from({ length: 21 }, (_, i) => `l${i}`), 'vip', [1], null, ['ok', null]]) {
    const res = await putLabels(app, agent, s.id, labels)
    t.equal(res.statusCode, 400, JSON.stringify(labels).slice(0, 50))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  t.match((await putLabels(app, agent, s.id, ['tag!'])).json().error.message, /"tag!"/)
  t.equal((await putLabels(app, agent, s.id, Array.from({ length: 20 }, (_, i) => `l${i}`))).statusCode, 200, '20 is fine')
  t.equal((await putLabels(app, agent, s.id, [...Array.from({ length: 20 }, (_, i) => `l${i}`), 'L1'])).statusCode, 200, 'duplicates count once')
  t.equal((await app.inject({ method: 'PUT', url: `/api/chat/sessions/${s.id}/labels`, headers: bearer(agent), payload: { labels: [], more: 1 } })).statusCode, 400)
  t.equal((await app.inject({ method: 'PUT', url: `/api/chat/sessions/${s.id}/labels`, payload: { labels: [] } })).statusCode, 401)
  t.equal((await putLabels(app, agent, randomUUID(), ['x'])).statusCode, 404)
  for (const q of ['label=', 'label=a%20b', `label=${'a'.repeat(33)}`]) {
    t.equal((await app.inject({ method: 'GET', url: `/api/chat/sessions?${q}`, headers: bearer(agent) })).statusCode, 400, q)
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/labels' })).statusCode, 401)
})

t.test('labels in use come from the sites the caller sees only', async (t) => {
  const app = await buildTestApp(t)
  const admin = await makeStaff(app, 'admin')
  const [a, b] = [await makeSite(app), await makeSite(app)]
  const agent = await makeStaff(app, 'agent', 'Olena', [a.id])
  await putLabels(app, admin, (await makeSession(app, a)).id, ['alpha-only'])
  await putLabels(app, admin, (await makeSession(app, b)).id, ['beta-only'])
  const names = ((await app.inject({ method: 'GET', url: '/api/chat/labels', headers: bearer(agent) })).json().data.labels as { name: string }[]).map((l) => l.name)
  t.ok(names.includes('alpha-only'))
  t.notOk(names.includes('beta-only'))
})

t.test('a label whose lower-case form breaks the rules is refused: what is stored can always be sent back and filtered on', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  // 'İ' lower-cases to 'i' + U+0307 (a combining mark, not a letter); 32 of them to 64 code points
  for (const labels of [['İstanbul'], ['İ'.repeat(32)]] as const) {
    const res = await putLabels(app, agent, s.id, labels)
    t.equal(res.statusCode, 400, labels[0])
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  const stored = (await putLabels(app, agent, s.id, ['ΣΑΣ', 'ǅ', 'ß'])).json().data.session.labels as string[]
  t.same(stored, ['ß', 'ǆ', 'σας'])
  t.equal((await putLabels(app, agent, s.id, [...stored, 'vip'])).statusCode, 200, 'the stored labels are valid input')
})
