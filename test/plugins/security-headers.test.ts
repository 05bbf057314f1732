import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { call, serve } from '../helpers/http.js'

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
