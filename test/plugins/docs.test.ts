import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

t.test('/docs/json is the OpenAPI description of every contract route', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.match(doc.openapi, /^3\./)
  const paths = Object.keys(doc.paths)
  for (const path of [
    '/api/public/chat/sessions', '/api/public/chat/sessions/{id}/messages',
    '/api/auth/login', '/api/auth/me',
    '/api/chat/sessions', '/api/chat/sessions/{id}', '/api/chat/sessions/{id}/messages', '/api/chat/sessions/{id}/read', '/api/chat/sessions/{id}/close', '/api/chat/stats',
    '/api/admin/users', '/api/admin/users/{id}', '/api/admin/sites', '/api/admin/sites/{id}', '/api/admin/sites/{id}/rotate',
    '/healthz',
  ]) t.ok(paths.includes(path), path)
  const send = doc.paths['/api/public/chat/sessions/{id}/messages'].post
  t.ok(send.requestBody.content['application/json'].schema.properties.text, 'request schemas come from TypeBox')
  t.ok(send.responses['201'], 'responses are described')
})

t.test('/docs serves the UI as HTML', async (t) => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'GET', url: '/docs' })
  const page = res.statusCode === 302 ? await app.inject({ method: 'GET', url: res.headers.location ?? '' }) : res
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
})
