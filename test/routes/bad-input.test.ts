import t from 'tap'
import type { InjectOptions } from 'fastify'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, sessionHeaders } from '../helpers/fixtures.js'

t.test('odd input anywhere is a 4xx in the envelope, never a 5xx or a leak', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const admin = await makeStaff(app, 'admin')
  const pub = `/api/public/chat/sessions`
  const json = { 'content-type': 'application/json' }
  const requests: InjectOptions[] = [
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey, ...json }, payload: '{"__proto__":{"x":1}}' },
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey, ...json }, payload: '{"constructor":{"prototype":{"x":1}}}' },
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey, ...json }, payload: 'null' },
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey, ...json }, payload: '"text"' },
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey, ...json }, payload: '{"firstMessage":"\\ud800"}' },
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey }, payload: { pageUrl: 'x'.repeat(2049) } },
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey }, payload: { locale: '../../etc/passwd' } },
    { method: 'POST', url: pub, headers: { 'x-api-key': site.apiKey }, payload: { name: { first: 'O' } } },
    { method: 'POST', url: pub, headers: { 'x-api-key': [site.apiKey, 'pk_other'] }, payload: { userSessionId: 12 } },
    { method: 'POST', url: `${pub}/${s.id}/messages`, headers: { ...sessionHeaders(s), 'x-session-token': 'x'.repeat(10_000) }, payload: { text: 'hi' } },
    { method: 'POST', url: `${pub}/${s.id}/messages`, headers: sessionHeaders(s), payload: { text: ['a'] } },
    { method: 'POST', url: `${pub}/%00/messages`, headers: { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret }, payload: { text: 'hi' } },
    { method: 'GET', url: `${pub}/${'a'.repeat(65)}/messages`, headers: { 'x-api-key': site.apiKey, 'x-api-secret': site.apiSecret } },
    { method: 'GET', url: `${pub}/${s.id}/messages?since=%E0%A4%A`, headers: sessionHeaders(s) },
    { method: 'GET', url: `${pub}/${s.id}/messages?since=2026-02-30T10:00:00Z&after=1e400`, headers: sessionHeaders(s) },
    { method: 'GET', url: `${pub}/${s.id}/messages?limit=1&limit=2`, headers: sessionHeaders(s) },
    { method: 'GET', url: `/api/chat/sessions/%E0%A4%A`, headers: bearer(admin) },
    { method: 'GET', url: `/api/chat/sessions?from=275760-09-13&page=9007199254740993`, headers: bearer(admin) },
    { method: 'GET', url: `/api/chat/sessions?status=open&status=closed`, headers: bearer(admin) },
    { method: 'GET', url: `/api/chat/stats?from=1&to=2`, headers: bearer(admin) },
    { method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${'a'.repeat(20_000)}` } },
    { method: 'POST', url: '/api/auth/login', payload: { email: ['a@example.com'], password: 'x' } },
    { method: 'POST', url: '/api/admin/users', headers: bearer(admin), payload: { email: 'ü@exämple.com', name: 'x', password: 'p'.repeat(1025), role: 'agent' } },
    { method: 'PATCH', url: '/api/admin/sites/00000000-0000-0000-0000-000000000000', headers: bearer(admin), payload: { bot: { hours: { 7: ['09:00', '18:00'] } } } },
    { method: 'POST', url: '/api/admin/sites', headers: bearer(admin), payload: { name: 'x', origins: Array(51).fill('https://a.example') } },
    { method: 'POST', url: `/api/chat/sessions/${s.id}/assign`, headers: bearer(admin), payload: { userId: "' or 1=1 --" } },
    { method: 'POST', url: `/api/chat/sessions/${s.id}/assign`, headers: bearer(admin), payload: '{"userId":' },
    { method: 'POST', url: `/api/chat/sessions/${s.id}/notes`, headers: bearer(admin), payload: { text: 'a\u0000b' } },
    { method: 'POST', url: `/api/chat/sessions/${s.id}/notes`, headers: { ...bearer(admin), 'content-type': 'text/plain' }, payload: 'note' },
    { method: 'PUT', url: `/api/chat/sessions/${s.id}/labels`, headers: bearer(admin), payload: { labels: [{ $ne: 1 }] } },
    { method: 'PUT', url: `/api/chat/sessions/${s.id}/labels`, headers: bearer(admin), payload: { labels: ['%00'] } },
    { method: 'GET', url: '/api/chat/sessions?label=%00&assignedTo=%E0%A4%A', headers: bearer(admin) },
    { method: 'POST', url: '/api/chat/canned', headers: bearer(admin), payload: { shortcut: 'ok', text: 'a\u0000' } },
    { method: 'POST', url: '/api/chat/canned', headers: bearer(admin), payload: { shortcut: '__proto__', text: 'x', siteId: '00000000-0000-0000-0000-000000000000' } },
    { method: 'PATCH', url: '/api/chat/canned/%E0%A4%A', headers: bearer(admin), payload: { text: 'x' } },
    { method: 'GET', url: '/api/chat/canned?siteId=1%27', headers: bearer(admin) },
    { method: 'PATCH', url: '/api/auth/me', headers: bearer(admin), payload: { availability: ['online'] } },
    { method: 'PATCH', url: `/api/admin/users/${admin.id}`, headers: bearer(admin), payload: { siteIds: ['00000000-0000-0000-0000-000000000000'] } },
    { method: 'PATCH', url: `/api/admin/sites/00000000-0000-0000-0000-000000000000`, headers: bearer(admin), payload: { autoAssign: { enabled: true, maxOpenPerAgent: 1e10 } } },
    { method: 'GET', url: '/api/public/chat/availability', headers: { 'x-api-key': 'x'.repeat(10_000) } },
  ]
  for (const req of requests) {
    const res = await app.inject(req)
    const what = `${req.method} ${String(req.url).slice(0, 70)} ${String(typeof req.payload === 'string' ? req.payload : JSON.stringify(req.payload ?? '')).slice(0, 40)}`
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${what} → ${res.statusCode}`)
    t.equal(res.json().success, false, what)
    t.notMatch(res.body, /at .*\.ts:\d+|select |insert |postgres/i, `${what}: no internals`)
  }
})

t.test('a route that takes no body refuses one with fields: unknown fields are a 400, not ignored', async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const admin = await makeStaff(app, 'admin')
  const refused: InjectOptions[] = [
    { method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(admin), payload: { status: 'open' } },
    { method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: bearer(admin), payload: { seq: 1 } },
    { method: 'POST', url: '/api/auth/logout', headers: bearer(admin), payload: { all: true } },
    { method: 'POST', url: `/api/chat/sessions/${s.id}/close`, headers: bearer(admin), payload: [1] },
    { method: 'DELETE', url: `/api/admin/sites/${site.id}/webhooks/${s.id}`, headers: bearer(admin), payload: { force: true } },
  ]
  for (const req of refused) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 400, `${req.method} ${req.url} ${JSON.stringify(req.payload)}`)
    t.equal(res.json().error.code, 'VALIDATION_ERROR')
  }
  t.match((await app.inject(refused[0] as InjectOptions)).json().error.message, /unknown field "status"/)
  const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(admin) })
  t.equal(me.statusCode, 200, 'the refused logout signed nothing out')
  const open = await app.inject({ method: 'GET', url: `/api/chat/sessions/${s.id}`, headers: bearer(admin) })
  t.equal(open.json().data.session.status, 'open', 'the refused close changed nothing')
  for (const payload of [undefined, {}, '']) {
    const res = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/read`, headers: { ...bearer(admin), 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 200, `no body, {} or an empty JSON body is fine (${JSON.stringify(payload)})`)
  }
})
