import t from 'tap'
import Fastify from 'fastify'
import cors from '@fastify/cors'
import { buildTestApp } from '../helpers/app.js'
import { bearer, makeSite, makeStaff, startSessionRequest } from '../helpers/fixtures.js'

t.test("a site's allowed origin gets the CORS grant, other origins none", async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app, ['https://shop.example'])
  const allowed = await app.inject({ ...startSessionRequest(site), headers: { 'x-api-key': site.apiKey, origin: 'https://shop.example' } })
  t.equal(allowed.statusCode, 201)
  t.equal(allowed.headers['access-control-allow-origin'], 'https://shop.example')
  t.match(String(allowed.headers['access-control-expose-headers']), /Retry-After/i)
  const other = await app.inject({ ...startSessionRequest(site), headers: { 'x-api-key': site.apiKey, origin: 'https://evil.example' } })
  t.equal(other.headers['access-control-allow-origin'], undefined)
  const otherSite = await makeSite(app, ['https://other.example'])
  const crossSite = await app.inject({ ...startSessionRequest(site), headers: { 'x-api-key': site.apiKey, origin: 'https://other.example' } })
  t.equal(crossSite.headers['access-control-allow-origin'], undefined, "another site's origin does not open this site")
  t.ok(otherSite)
  const admin = await app.inject({ method: 'GET', url: '/api/chat/sessions', headers: { origin: 'https://shop.example' } })
  t.equal(admin.headers['access-control-allow-origin'], undefined, 'the admin API grants no origin')
})

t.test('a preflight for the custom headers is answered for an allowed origin', async (t) => {
  const app = await buildTestApp(t)
  await makeSite(app, ['https://preflight.example'])
  const res = await app.inject({
    method: 'OPTIONS',
    url: '/api/public/chat/sessions/00000000-0000-4000-8000-000000000000/messages',
    headers: {
      origin: 'https://preflight.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-api-key,x-api-secret,x-session-token',
    },
  })
  t.equal(res.statusCode, 204)
  t.equal(res.headers['access-control-allow-origin'], 'https://preflight.example')
  const allowedHeaders = String(res.headers['access-control-allow-headers']).toLowerCase()
  for (const h of ['content-type', 'x-api-key', 'x-api-secret', 'x-session-token']) t.match(allowedHeaders, h)
  t.match(String(res.headers['access-control-allow-methods']), /POST/)
  const denied = await app.inject({
    method: 'OPTIONS',
    url: '/api/public/chat/sessions',
    headers: { origin: 'https://nobody.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key' },
  })
  t.equal(denied.headers['access-control-allow-origin'], undefined)
})

t.test("a site open to '*' grants any origin", async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app, ['*'])
  const res = await app.inject({ ...startSessionRequest(site), headers: { 'x-api-key': site.apiKey, origin: 'https://anywhere.example' } })
  t.equal(res.headers['access-control-allow-origin'], 'https://anywhere.example')
})

t.test("changing a site's origins through the admin API takes effect at once", async (t) => {
  const app = await buildTestApp(t)
  const site = await makeSite(app, ['https://old.example'])
  const admin = await makeStaff(app, 'admin')
  const patched = await app.inject({ method: 'PATCH', url: `/api/admin/sites/${site.id}`, headers: bearer(admin), payload: { origins: ['https://new.example/'] } })
  t.equal(patched.statusCode, 200)
  const fromNew = await app.inject({ ...startSessionRequest(site), headers: { 'x-api-key': site.apiKey, origin: 'https://new.example' } })
  t.equal(fromNew.headers['access-control-allow-origin'], 'https://new.example')
  const fromOld = await app.inject({ ...startSessionRequest(site), headers: { 'x-api-key': site.apiKey, origin: 'https://old.example' } })
  t.equal(fromOld.headers['access-control-allow-origin'], undefined)
})

t.test('@fastify/cors as patched: a delegator\'s options object is normalized once, and a route\'s own cors config still applies', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  let reads = 0
  // the same object for every request, as the cors plugin gives; each normalization reads `origin`
  const options = { exposedHeaders: 'X-Global', get origin() { reads++; return '*' } }
  await app.register(cors, { delegator: (_req: unknown, done: (err: null, o: typeof options) => void) => done(null, options) })
  app.get('/plain', async () => 'ok')
  app.get('/own', { config: { cors: { exposedHeaders: 'X-Route' } } }, async () => 'ok')
  app.get('/off', { config: { cors: false } }, async () => 'ok')
  const first = await app.inject({ url: '/plain', headers: { origin: 'https://a.example' } })
  t.equal(first.headers['access-control-allow-origin'], '*')
  t.equal(first.headers['access-control-expose-headers'], 'X-Global')
  const readsAfterFirst = reads
  for (let i = 0; i < 3; i++) await app.inject({ url: '/plain', headers: { origin: 'https://a.example' } })
  t.equal(reads, readsAfterFirst, 'no request after the first normalizes the options again (patches/@fastify+cors)')
  const own = await app.inject({ url: '/own', headers: { origin: 'https://a.example' } })
  t.equal(own.headers['access-control-expose-headers'], 'X-Route')
  t.equal(own.headers['access-control-allow-origin'], '*')
  const off = await app.inject({ url: '/off', headers: { origin: 'https://a.example' } })
  t.equal(off.headers['access-control-allow-origin'], undefined)
})
