import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { makeSession, makeSite, makeStaff, type TestSession, uniq } from '../helpers/fixtures.js'
import { call, serve, type Answer } from '../helpers/http.js'

function assertLimited(t: Test, res: Answer, what: string) {
  t.equal(res.status, 429, what)
  t.match(res.body, { success: false, error: { code: 'RATE_LIMITED' } }, what)
  t.match(String(res.headers['retry-after']), /^\d+$/, `${what}: Retry-After in seconds`)
  t.equal(res.headers['x-ratelimit-remaining'], '0', what)
  t.ok(res.headers['x-ratelimit-limit'], what)
  t.ok(res.headers['x-ratelimit-reset'], what)
}

const start = (base: string, apiKey: string, body: Record<string, unknown> = {}) =>
  call(base, '/api/public/chat/sessions', { headers: { 'x-api-key': apiKey }, body })
const send = (base: string, s: TestSession, text: string) =>
  call(base, `/api/public/chat/sessions/${s.id}/messages`, { headers: { 'x-api-key': s.site.apiKey, 'x-session-token': s.token }, body: { text } })
const pollOnce = (base: string, s: TestSession) =>
  call(base, `/api/public/chat/sessions/${s.id}/messages`, { headers: { 'x-api-key': s.site.apiKey, 'x-session-token': s.token } })
const login = (base: string, email: string, password: string, from?: string) =>
  call(base, '/api/auth/login', { body: { email, password }, from })

t.test('public requests are limited per client IP over every route and site key; 429 in the envelope with Retry-After', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PUBLIC_PER_MINUTE: '3' } })
  const base = await serve(app)
  const site = await makeSite(app)
  const other = await makeSite(app)
  const first = await start(base, site.apiKey)
  t.equal(first.status, 201)
  t.equal(first.headers['x-ratelimit-limit'], '3')
  const data = first.body.data as { sessionId: string; token: string; userSessionId: string }
  const s = { site, id: data.sessionId, token: data.token, userSessionId: data.userSessionId }
  t.equal((await send(base, s, 'hi')).status, 201)
  t.equal((await pollOnce(base, s)).status, 200)
  assertLimited(t, await start(base, site.apiKey), 'the fourth request, whatever the route')
  assertLimited(t, await pollOnce(base, s), 'the budget spans the public routes')
  assertLimited(t, await start(base, other.apiKey), 'another site key draws on the same budget of this IP')
  const elsewhere = await call(base, '/api/public/chat/sessions', { headers: { 'x-api-key': site.apiKey }, body: {}, from: '127.0.0.2' })
  t.equal(elsewhere.status, 201, 'another client address has its own budget')
  for (let i = 0; i < 5; i++) t.equal((await call(base, '/healthz')).status, 200, 'healthz is never limited')
})

t.test('random or unknown site keys get no fresh budget: the IP is counted before the key is looked up', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_PUBLIC_PER_MINUTE: '3' } })
  const base = await serve(app)
  const site = await makeSite(app)
  for (let i = 0; i < 3; i++) t.equal((await start(base, `pk_${uniq()}`)).status, 401, 'an unknown key is 401')
  assertLimited(t, await start(base, `pk_${uniq()}`), 'a fourth random key')
  assertLimited(t, await start(base, site.apiKey), 'and the real key from the same IP')
})

t.test('sends per session are limited', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_SENDS_PER_MINUTE: '2' } })
  const base = await serve(app)
  const site = await makeSite(app)
  const s = await makeSession(app, site)
  t.equal((await send(base, s, '1')).status, 201)
  t.equal((await send(base, s, '2')).status, 201)
  assertLimited(t, await send(base, s, '3'), 'third send')
  t.equal((await pollOnce(base, s)).status, 200, 'polling is not a send')
  const other = await makeSession(app, site)
  t.equal((await send(base, other, 'x')).status, 201, 'another session has its own budget')
})

t.test('sessions created per IP are limited', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_SESSIONS_PER_MINUTE: '2' } })
  const base = await serve(app)
  const site = await makeSite(app)
  t.equal((await start(base, site.apiKey)).status, 201)
  t.equal((await start(base, site.apiKey)).status, 201)
  assertLimited(t, await start(base, site.apiKey), 'third session')
})

t.test('login attempts are limited per account, whatever the spacing and case of the email', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_LOGIN_PER_MINUTE: '4' } })
  const base = await serve(app)
  const staff = await makeStaff(app)
  t.equal((await login(base, staff.email, staff.password)).status, 200, 'the first of the four')
  const variants = [`  ${staff.email}`, `${staff.email.toUpperCase()}  `, `\t${staff.email}\n`]
  for (const email of variants) t.equal((await login(base, email, 'guess-guess')).status, 401, JSON.stringify(email))
  assertLimited(t, await login(base, ` ${staff.email} `, 'guess-guess'), 'a fourth spelling of the same account')
  t.equal((await login(base, staff.email, staff.password)).status, 429, 'even the right password waits')
  t.equal((await login(base, 'someone@example.com', 'guess-guess')).status, 401, 'another account has its own budget')
  const right = await login(base, `  ${staff.email.toUpperCase()} `, staff.password, '127.0.0.3')
  t.equal(right.status, 429, 'the account budget holds from another address too')
})

t.test('login attempts are limited per IP over all emails', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_LOGIN_IP_PER_MINUTE: '4' } })
  const base = await serve(app)
  const staff = await makeStaff(app)
  t.equal((await login(base, staff.email, staff.password)).status, 200, 'the first of the four, from 127.0.0.1 too')
  for (let i = 0; i < 3; i++) t.equal((await login(base, `${uniq('u')}@example.com`, 'guess-guess')).status, 401)
  assertLimited(t, await login(base, `${uniq('u')}@example.com`, 'guess-guess'), 'a fourth email from the same IP')
  t.equal((await login(base, staff.email, staff.password, '127.0.0.2')).status, 200, 'another address may still log in')
})

t.test('a flood of logins beyond the hashing queue is refused at once with 429, never a 5xx', async (t) => {
  const app = await buildTestApp(t, { env: { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '2' } })
  const base = await serve(app)
  const staff = await makeStaff(app)
  const answers = await Promise.all(Array.from({ length: 12 }, () => login(base, staff.email, 'guess-guess')))
  const codes = answers.map((a) => a.status)
  t.ok(codes.every((c) => c === 401 || c === 429), `only 401 and 429: ${codes.join(',')}`)
  t.ok(codes.filter((c) => c === 401).length >= 3, 'one hashing and two waiting are answered')
  const refused = answers.find((a) => a.status === 429)
  t.ok(refused, 'the rest are refused')
  t.equal(refused?.body.error?.code, 'RATE_LIMITED')
  t.equal(refused?.headers['retry-after'], '1')
  t.equal((await login(base, staff.email, staff.password)).status, 200, 'afterwards logins work')
})

t.test('legacy Telegram notifications have a small budget per IP', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_NOTIFY_PER_MINUTE: '2' } })
  const base = await serve(app)
  const site = await makeSite(app)
  const notify = () => call(base, '/api/public/chat/notify', { headers: { 'x-api-key': site.apiKey }, body: { name: 'Ann', message: 'call me' } })
  t.equal((await notify()).status, 202)
  t.equal((await notify()).status, 202)
  assertLimited(t, await notify(), 'third notification')
  t.equal((await start(base, site.apiKey)).status, 201, 'other public routes still answer')
})

t.test('the admin API is limited per IP', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_ADMIN_PER_MINUTE: '2' } })
  const base = await serve(app)
  const staff = await makeStaff(app)
  const headers = { authorization: `Bearer ${staff.token}` }
  await call(base, '/api/chat/sessions', { headers })
  await call(base, '/api/chat/stats', { headers })
  assertLimited(t, await call(base, '/api/chat/sessions', { headers }), 'third admin request')
})
