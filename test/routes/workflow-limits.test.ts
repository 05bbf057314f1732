import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { InjectOptions } from 'fastify'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff } from '../helpers/fixtures.js'

t.test('every route of the support workflow is rate limited (each from an address of its own)', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_ADMIN_PER_MINUTE: '1', RATE_LIMIT_PUBLIC_PER_MINUTE: '1' } })
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  const admin = await makeStaff(app, 'admin')
  const headers = bearer(admin)
  const cannedId = randomUUID()
  const routes: InjectOptions[] = [
    { method: 'POST', url: `/api/chat/sessions/${s.id}/assign`, headers, payload: { userId: null } },
    { method: 'POST', url: `/api/chat/sessions/${s.id}/notes`, headers, payload: { text: 'n' } },
    { method: 'PUT', url: `/api/chat/sessions/${s.id}/labels`, headers, payload: { labels: [] } },
    { method: 'GET', url: '/api/chat/labels', headers },
    { method: 'GET', url: '/api/chat/canned', headers },
    { method: 'POST', url: '/api/chat/canned', headers, payload: { shortcut: 'x', text: 'y' } },
    { method: 'PATCH', url: `/api/chat/canned/${cannedId}`, headers, payload: { text: 'y' } },
    { method: 'DELETE', url: `/api/chat/canned/${cannedId}`, headers },
    { method: 'PATCH', url: '/api/auth/me', headers, payload: { availability: 'online' } },
    { method: 'GET', url: '/api/public/chat/availability', headers: { 'x-api-key': site.apiKey } },
  ]
  for (const [i, route] of routes.entries()) {
    const remoteAddress = `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`
    const first = await app.inject({ ...route, remoteAddress })
    t.not(first.statusCode, 429, `${route.method} ${route.url}: the first request is served`)
    t.equal(first.headers['x-ratelimit-limit'], '1', `${route.method} ${route.url}: counted`)
    const second = await app.inject({ ...route, remoteAddress })
    t.equal(second.statusCode, 429, `${route.method} ${route.url}: the second is refused`)
    t.equal(second.json().error.code, 'RATE_LIMITED')
  }
})
