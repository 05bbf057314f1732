import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

t.test('HTML responses carry the CSP and framing headers; every response nosniff', async (t) => {
  const app = await buildTestApp(t)
  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  const html = docs.statusCode === 302 ? await app.inject({ method: 'GET', url: docs.headers.location ?? '' }) : docs
  t.match(html.headers['content-type'], /text\/html/)
  t.match(String(html.headers['content-security-policy']), /default-src 'self'/)
  t.match(String(html.headers['content-security-policy']), /frame-ancestors 'none'/)
  t.equal(html.headers['x-frame-options'], 'DENY')
  t.equal(html.headers['x-content-type-options'], 'nosniff')
  const json = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(json.headers['x-content-type-options'], 'nosniff')
  t.equal(json.headers['referrer-policy'], 'strict-origin-when-cross-origin')
})
