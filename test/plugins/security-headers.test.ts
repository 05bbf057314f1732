import t from 'tap'
import { buildTestApp, sharedTestApp } from '../helpers/app.js'
import * as files from '../helpers/files.js'
import { bearer, makeSession, makeSite, makeStaff, pollRequest, sendRequest, startSessionRequest } from '../helpers/fixtures.js'
import { call, serve } from '../helpers/http.js'
import { pathOf, visitorUpload } from '../helpers/uploads.js'

t.test('HTML responses carry the CSP and framing headers; every response nosniff', async (t) => {
  const app = await buildTestApp(t)
  const base = await serve(app)
  const html = await call(base, '/admin')
  t.match(html.headers['content-type'], /text\/html/)
  t.match(String(html.headers['content-security-policy']), /default-src 'self'/)
  t.match(String(html.headers['content-security-policy']), /frame-ancestors 'none'/)
  t.equal(html.headers['x-frame-options'], 'DENY')
  t.equal(html.headers['x-content-type-options'], 'nosniff')
  const json = await call(base, '/healthz')
  t.equal(json.headers['x-content-type-options'], 'nosniff')
  t.equal(json.headers['referrer-policy'], 'strict-origin-when-cross-origin')
})

t.test("connect-src names this server's own origin and PUBLIC_URL, never any ws:/wss: host", async (t) => {
  const app = await buildTestApp(t, { env: { PUBLIC_URL: 'https://chat.example.com' } })
  const base = await serve(app)
  const csp = String((await call(base, '/admin')).headers['content-security-policy'])
  const connect = /connect-src ([^;]+)/.exec(csp)?.[1]?.split(' ') ?? []
  const own = new URL(base)
  t.same(connect.sort(), ["'self'", `http://${own.host}`, `ws://${own.host}`, 'https://chat.example.com', 'wss://chat.example.com'].sort())
  t.notOk(connect.includes('ws:') || connect.includes('wss:'), 'no bare scheme')
  const odd = await call(base, '/admin', { headers: { host: 'evil.example"; script-src *' } })
  t.notMatch(String(odd.headers['content-security-policy']), /evil|script-src \*/, 'a strange Host is left out, not echoed')
})

t.test('HSTS is sent when the request came over https (through a trusted proxy), not over plain http', async (t) => {
  const app = await buildTestApp(t, { env: { TRUST_PROXY: '1' } })
  const base = await serve(app)
  const plain = await call(base, '/healthz')
  t.equal(plain.headers['strict-transport-security'], undefined)
  const tls = await call(base, '/healthz', { headers: { 'x-forwarded-proto': 'https' } })
  t.equal(tls.headers['strict-transport-security'], 'max-age=31536000')
  const untrusted = await buildTestApp(t)
  const spoofed = await call(await serve(untrusted), '/healthz', { headers: { 'x-forwarded-proto': 'https' } })
  t.equal(spoofed.headers['strict-transport-security'], undefined, 'X-Forwarded-Proto counts only from a trusted proxy')
})

t.test('API answers carrying tokens or personal data are no-store; a file keeps its own caching', async (t) => {
  const app = await sharedTestApp()
  const site = await makeSite(app)
  const staff = await makeStaff(app)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: staff.email, password: staff.password } })
  t.equal(login.statusCode, 200)
  t.equal(login.headers['cache-control'], 'no-store', 'a login answer (the token)')
  const started = await app.inject(startSessionRequest(site, { email: 'anna@example.com' }))
  t.equal(started.headers['cache-control'], 'no-store', 'a new session (its token)')
  const s = await makeSession(app, site)
  t.equal((await app.inject(pollRequest(s))).headers['cache-control'], 'no-store', 'a poll (the messages)')
  t.equal((await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: bearer(staff) })).headers['cache-control'], 'no-store', 'the staff list')
  t.equal((await app.inject(pollRequest({ ...s, token: 'st_wrong' }))).headers['cache-control'], 'no-store', 'an error')
  const file = await visitorUpload(app, s, files.png(), 'a.png')
  const sent = await app.inject(sendRequest(s, { attachments: [file.id] }))
  const download = await app.inject({ method: 'GET', url: pathOf(sent.json().data.message.attachments[0].url) })
  t.match(download.headers['cache-control'], /^private, max-age=\d+, immutable$/)
})
