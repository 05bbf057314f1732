import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, freshDatabase } from '../../../../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, sessionHeaders, type Staff, type TestSession } from '../../../../helpers/fixtures.js'
import { dashboardUrl, listen, openSocket } from '../../../../helpers/sockets.js'

const rate = (app: FastifyInstance, s: TestSession, payload: unknown, headers: Record<string, string> = sessionHeaders(s)) =>
  app.inject({ method: 'POST', url: `/api/public/chat/sessions/${s.id}/rating`, headers, payload: payload as object })

const close = (app: FastifyInstance, staff: Staff, s: TestSession) =>
  app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(staff) })

t.test('a closed chat is rated once; the admin view, the socket and the stats show it', async (t) => {
  const app = await buildTestApp(t, { databaseUrl: await freshDatabase() })
  const agent = await makeStaff(app)
  const site = await makeSite(app)
  const s = await makeSession(app, site, { firstMessage: 'hello' })
  const open = await rate(app, s, { score: 5 })
  t.equal(open.statusCode, 409, 'an open chat cannot be rated')
  t.match(open.json().error, { code: 'CONFLICT' })
  await close(app, agent, s)
  const dash = await openSocket(t, dashboardUrl(await listen(app), agent))
  const res = await rate(app, s, { score: 4, comment: '  Quick and kind  ' })
  t.equal(res.statusCode, 201)
  t.match(res.json().data.rating, { score: 4, comment: 'Quick and kind', createdAt: /^\d{4}-\d\d-\d\dT.*Z$/ })
  await dash.waitUntil('session.updated with the rating', () => dash.ofType('session.updated').some((f) => (f.session?.rating as { score?: number } | null)?.score === 4))
  const again = await rate(app, s, { score: 1 })
  t.equal(again.statusCode, 409, 'stored once')
  t.match(again.json().error, { code: 'CONFLICT', message: /rated already/ })
  const detail = (await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(agent) })).json().data.session
  t.match(detail.rating, { score: 4, comment: 'Quick and kind' })

  const others = [[5, null], [5, 'great'], [1, 'slow']] as const
  for (const [score, comment] of others) {
    const o = await makeSession(app, site, { firstMessage: 'hi' })
    await close(app, agent, o)
    t.equal((await rate(app, o, { score, comment })).statusCode, 201)
  }
  await makeSession(app, site, { firstMessage: 'not rated' })
  const stats = (await app.inject({ method: 'GET', url: '/api/chat/stats', headers: bearer(agent) })).json().data
  t.match(stats, { csatCount: 4, csatAverage: 3.75, csatDistribution: { 1: 1, 2: 0, 3: 0, 4: 1, 5: 2 } })
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
  const none = (await app.inject({ method: 'GET', url: `/api/chat/stats?from=${tomorrow}`, headers: bearer(agent) })).json().data
  t.match(none, { csatCount: 0, csatAverage: null, csatDistribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } }, 'over the chosen range')

  const list = async (q: string) => (await app.inject({ method: 'GET', url: `/api/chat/sessions?${q}`, headers: bearer(agent) })).json().data
  t.equal((await list('rating=5')).total, 2)
  t.equal((await list('rating=4')).sessions[0].id, s.id)
  t.equal((await list('rated=true')).total, 4)
  t.equal((await list('rated=false')).total, 1)
  for (const q of ['rating=0', 'rating=6', 'rating=x', 'rated=maybe']) {
    t.equal((await app.inject({ method: 'GET', url: `/api/chat/sessions?${q}`, headers: bearer(agent) })).statusCode, 400, q)
  }
})

t.test('rating input and access: bad bodies are 400, wrong credentials 401, another site 404', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const site = await makeSite(app)
  const s = await makeSession(app, site, { firstMessage: 'hello' })
  await close(app, agent, s)
  const bad = [{}, { score: 0 }, { score: 6 }, { score: 4.5 }, { score: '5' }, { score: 5, comment: 7 }, { score: 5, extra: true },
    { score: 5, comment: 'é'.repeat(1001) }, { score: 5, comment: 'nul\u0000' }, null]
  for (const body of bad) {
    const res = await rate(app, s, body)
    t.equal(res.statusCode, 400, JSON.stringify(body)?.slice(0, 60))
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  t.equal((await rate(app, s, { score: 5 }, { 'x-api-key': site.apiKey })).statusCode, 401, 'no token')
  t.equal((await rate(app, s, { score: 5 }, { ...sessionHeaders(s), 'x-session-token': 'st_nope' })).statusCode, 401, 'wrong token')
  const other = await makeSite(app)
  t.equal((await rate(app, { ...s, site: other }, { score: 5 }, { 'x-api-key': other.apiKey, 'x-api-secret': other.apiSecret })).statusCode, 404, 'another site')
  t.equal((await rate(app, s, { score: 3, comment: '   ' })).json().data.rating.comment, null, 'a blank comment is none')
})

t.test('a comment too long or holding a NUL is a 400 naming the field in the body, as schema errors do', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hello' })
  await close(app, agent, s)
  for (const [comment, said] of [['é'.repeat(1001), /at most 1000/], ['nul\u0000', /NUL/]] as const) {
    const res = await rate(app, s, { score: 5, comment })
    t.equal(res.statusCode, 400)
    t.match(res.json().error, { code: 'VALIDATION_ERROR', message: said, details: [{ field: 'comment', location: 'body' }] }, String(said))
  }
})

t.test('a comment with a lone surrogate is a 400, not stored as U+FFFD, and the chat can still be rated', async (t) => {
  const app = await buildTestApp(t)
  const agent = await makeStaff(app)
  const s = await makeSession(app, await makeSite(app))
  await close(app, agent, s)
  // as JSON text: a JS string with a lone surrogate would be re-encoded by inject
  const res = await app.inject({ method: 'POST', url: `/api/public/chat/sessions/${s.id}/rating`, headers: { ...sessionHeaders(s), 'content-type': 'application/json' }, payload: '{"score":4,"comment":"ok \\ud800"}' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error.code, 'VALIDATION_ERROR')
  t.match(res.json().error.message, /comment/)
  const fine = await rate(app, s, { score: 4, comment: 'ok 👍' })
  t.equal(fine.statusCode, 201, 'the refused rating used up nothing')
  t.equal(fine.json().data.rating.comment, 'ok 👍')
})
