import t from 'tap'
import { buildTestApp } from '../../../helpers/app.js'
import { makeSession, makeSite, makeStaff } from '../../../helpers/fixtures.js'
import { call, serve } from '../../../helpers/http.js'
import { listen, openDashboard, openSocket } from '../../../helpers/sockets.js'
import { waitFor } from '../../../helpers/wait.js'

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

t.test('logout revokes the token it is called with (204); other tokens of the user keep working', async (t) => {
  const app = await buildTestApp(t)
  const base = await serve(app)
  const staff = await makeStaff(app)
  const other = (await call(base, '/api/auth/login', { body: { email: staff.email, password: staff.password } })).body.data?.token as string
  t.equal((await call(base, '/api/auth/me', { headers: bearer(staff.token) })).status, 200)
  const out = await call(base, '/api/auth/logout', { method: 'POST', headers: bearer(staff.token) })
  t.equal(out.status, 204)
  t.equal(out.text, '')
  for (const path of ['/api/auth/me', '/api/chat/sessions']) {
    const res = await call(base, path, { headers: bearer(staff.token) })
    t.equal(res.status, 401, path)
    t.equal(res.body.error?.code, 'UNAUTHORIZED', path)
  }
  t.equal((await call(base, '/api/auth/logout', { method: 'POST', headers: bearer(staff.token) })).status, 401, 'a second logout with it is 401')
  t.equal((await call(base, '/api/auth/me', { headers: bearer(other) })).status, 200, 'a token from another login still works')
  t.equal((await call(base, '/api/auth/logout', { method: 'POST' })).status, 401, 'no token: 401')
  const [row] = await app.sql`select token_hash from revoked_tokens`
  t.notMatch(String(row?.token_hash), staff.token.split('.')[2] ?? 'x', 'only a hash of the token is kept')
})

t.test('a revoked token takes effect on every instance within a second, sockets included', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const baseA = await serve(a)
  const baseB = await serve(b)
  const staff = await makeStaff(a)
  const urlSocket = await openSocket(t, `${baseB.replace('http', 'ws')}/api/chat/ws?token=${encodeURIComponent(staff.token)}`)
  const frameSocket = await openDashboard(t, baseB.replace('http', 'ws'), staff)
  t.equal((await call(baseA, '/api/auth/logout', { method: 'POST', headers: bearer(staff.token) })).status, 204)
  const started = Date.now()
  t.equal((await call(baseB, '/api/auth/me', { headers: bearer(staff.token) })).status, 401, 'the other instance refuses it at once')
  const closed = await Promise.all([urlSocket.closed, frameSocket.closed])
  t.same(closed.map((c) => c.code), [4001, 4001], 'its sockets on the other instance are closed with 4001')
  t.ok(Date.now() - started < 1000, `within ${Date.now() - started} ms`)
})

t.test('the dashboard socket: first-frame auth, 4001 for a wrong token, a wrong first frame, or none within 2 s', async (t) => {
  const app = await buildTestApp(t)
  const base = await listen(app)
  const staff = await makeStaff(app)
  const good = await openDashboard(t, base, staff)
  const s = await makeSession(app, await makeSite(app), { firstMessage: 'hi' })
  await good.waitUntil('the new session', () => good.ofType('session.created').some((f) => f.session?.id === s.id))
  t.pass('events flow after the auth frame')

  const wrong = await openSocket(t, `${base}/api/chat/ws`)
  wrong.send({ type: 'auth', token: staff.token.slice(0, -3) + 'abc' })
  t.equal((await wrong.closed).code, 4001, 'a wrong token')
  const notAuth = await openSocket(t, `${base}/api/chat/ws`)
  notAuth.send({ type: 'ping' })
  t.equal((await notAuth.closed).code, 4001, 'a first frame that is not auth')
  const silent = await openSocket(t, `${base}/api/chat/ws`)
  const opened = Date.now()
  t.equal((await silent.closed).code, 4001, 'no auth frame')
  const waited = Date.now() - opened
  t.ok(waited >= 1900 && waited < 4000, `closed after ${waited} ms`)
  t.same(silent.frames, [], 'an unauthenticated socket gets no event')
})

t.test('user and site changes take effect on every instance within a second', async (t) => {
  const a = await buildTestApp(t)
  const b = await buildTestApp(t)
  const baseA = await serve(a)
  const baseB = await serve(b)
  const admin = await makeStaff(a, 'admin')
  const agent = await makeStaff(a)
  const site = await makeSite(a, ['https://old.example'])
  const start = (origin: string) => call(baseB, '/api/public/chat/sessions', { headers: { 'x-api-key': site.apiKey, origin }, body: {} })
  t.equal((await start('https://old.example')).status, 201, 'B serves the old origin (and caches the site)')
  const socket = await openDashboard(t, baseB.replace('http', 'ws'), agent)

  t.equal((await call(baseA, `/api/admin/sites/${site.id}`, { method: 'PATCH', headers: bearer(admin.token), body: { origins: ['https://new.example'] } })).status, 200)
  let started = Date.now()
  await waitFor('B to refuse the old origin', async () => (await start('https://old.example')).status === 403, 1000)
  t.equal((await start('https://new.example')).status, 201, 'and to take the new one')
  t.ok(Date.now() - started < 1000, `site change seen by B in ${Date.now() - started} ms`)

  t.equal((await call(baseA, `/api/admin/users/${agent.id}`, { method: 'PATCH', headers: bearer(admin.token), body: { role: 'admin' } })).status, 200)
  started = Date.now()
  t.equal((await socket.closed).code, 4001, "the agent's socket on B closes when the role changes")
  t.equal((await call(baseB, '/api/chat/sessions', { headers: bearer(agent.token) })).status, 401, 'and B refuses the old token')
  t.ok(Date.now() - started < 1000, `user change seen by B in ${Date.now() - started} ms`)
})
