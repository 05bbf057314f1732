import t, { type Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSession, makeSite, makeStaff, pollRequest, sendRequest, startSessionRequest } from '../helpers/fixtures.js'

function assertLimited(t: Test, res: LightMyRequestResponse, what: string) {
  t.equal(res.statusCode, 429, what)
  t.match(res.json(), { success: false, error: { code: 'RATE_LIMITED' } }, what)
  t.match(String(res.headers['retry-after']), /^\d+$/, `${what}: Retry-After in seconds`)
  t.equal(res.headers['x-ratelimit-remaining'], '0', what)
  t.ok(res.headers['x-ratelimit-limit'], what)
  t.ok(res.headers['x-ratelimit-reset'], what)
}

t.test('public requests per site key and IP are limited; 429 in the envelope with Retry-After', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PUBLIC_PER_MINUTE: '3' } })
  const site = await makeSite(app)
  const other = await makeSite(app)
  const first = await app.inject(startSessionRequest(site))
  t.equal(first.statusCode, 201)
  t.equal(first.headers['x-ratelimit-limit'], '3')
  const s = { site, id: first.json().data.sessionId, token: first.json().data.token, userSessionId: first.json().data.userSessionId }
  t.equal((await app.inject(sendRequest(s, { text: 'hi' }))).statusCode, 201)
  t.equal((await app.inject(pollRequest(s))).statusCode, 200)
  assertLimited(t, await app.inject(startSessionRequest(site)), 'the fourth request, whatever the route')
  assertLimited(t, await app.inject(pollRequest(s)), 'the budget spans the public routes')
  t.equal((await app.inject(startSessionRequest(other))).statusCode, 201, 'another site key has its own budget')
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'healthz is never limited')
})

t.test('sends per session are limited', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_SENDS_PER_MINUTE: '2' } })
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  t.equal((await app.inject(sendRequest(s, { text: '1' }))).statusCode, 201)
  t.equal((await app.inject(sendRequest(s, { text: '2' }))).statusCode, 201)
  assertLimited(t, await app.inject(sendRequest(s, { text: '3' })), 'third send')
  t.equal((await app.inject(pollRequest(s))).statusCode, 200, 'polling is not a send')
  const other = await makeSession(app, site)
  t.equal((await app.inject(sendRequest(other, { text: 'x' }))).statusCode, 201, 'another session has its own budget')
})

t.test('sessions created per IP are limited', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_SESSIONS_PER_MINUTE: '2' } })
  const site = await makeSite(app)
  await app.inject(startSessionRequest(site))
  await app.inject(startSessionRequest(site))
  assertLimited(t, await app.inject(startSessionRequest(site)), 'third session')
})

t.test('login attempts are limited per IP and email', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '2' } })
  const staff = await makeStaff(app) // one login inside
  const attempt = () => app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: staff.email, password: 'guess-guess' } })
  t.equal((await attempt()).statusCode, 401)
  assertLimited(t, await attempt(), 'brute force')
  const right = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: staff.email, password: staff.password } })
  t.equal(right.statusCode, 429, 'even the right password waits')
  const otherEmail = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'someone@example.com', password: 'guess-guess' } })
  t.equal(otherEmail.statusCode, 401)
})

t.test('the admin API is limited', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_ADMIN_PER_MINUTE: '2' } })
  const staff = await makeStaff(app)
  await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) })
  await app.inject({ method: 'GET', url: '/api/chat/stats', headers: bearer(staff) })
  assertLimited(t, await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) }), 'third admin request')
})
